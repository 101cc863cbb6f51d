package tributary.examples;

import io.apicurio.registry.resolver.config.SchemaResolverConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.config.IdOption;
import io.apicurio.registry.serde.config.SerdeConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads Tributary's event topics as an analytics principal and prints one JSON line per record:
 * {"topic", "key", "type", "event"}, the event decoded by Apicurio Registry's Avro deserializer from
 * the Confluent framing (a zero byte, the 4-byte content id, the Avro body). Avro longs (amounts in
 * minor units, times) are Java longs, exact to 2^63 - 1; they are printed as JSON strings so that no
 * reader of this output rounds them.
 *
 * <pre>
 *   BROKERS=127.0.0.1:9092 KAFKA_USERNAME=bi KAFKA_PASSWORD_FILE=bi.password \
 *   KAFKA_CA_FILE=.cache/kafka-data/dev/tls/ca.crt REGISTRY_URL=http://127.0.0.1:8081/apis/registry/v3 \
 *   TOPICS=tributary.inferences,tributary.attributions GROUP_ID=analytics.bi.java \
 *   java -cp 'target/classes:target/lib/*' tributary.examples.ReadTopics
 * </pre>
 */
public final class ReadTopics {
  private ReadTopics() {}

  public static void main(String[] args) throws Exception {
    String username = required("KAFKA_USERNAME");
    String password = System.getenv("KAFKA_PASSWORD");
    if (password == null || password.isEmpty()) {
      password = Files.readString(Path.of(required("KAFKA_PASSWORD_FILE"))).trim();
    }
    List<String> topics = Arrays.asList(required("TOPICS").split(","));
    long maxMessages = Long.parseLong(env("MAX_MESSAGES", String.valueOf(Long.MAX_VALUE)));
    long deadline = System.currentTimeMillis() + Long.parseLong(env("TIMEOUT_MS", "60000"));

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env("BROKERS", "127.0.0.1:9092"));
    props.put(ConsumerConfig.GROUP_ID_CONFIG, env("GROUP_ID", "analytics." + username + ".java"));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, AvroKafkaDeserializer.class.getName());
    // The analytics principal: SASL/SCRAM-SHA-512 over TLS, trusting the brokers' CA (a PEM file).
    props.put("security.protocol", "SASL_SSL");
    props.put("sasl.mechanism", "SCRAM-SHA-512");
    props.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + username
            + "\" password=\""
            + password
            + "\";");
    props.put("ssl.truststore.type", "PEM");
    props.put("ssl.truststore.location", required("KAFKA_CA_FILE"));
    // The registry's core API (not the Confluent-compatible one): the deserializer fetches schemas there.
    props.put(SchemaResolverConfig.REGISTRY_URL, required("REGISTRY_URL"));
    // Confluent framing: the id is 4 bytes, and it is the registry's content id (what the
    // Confluent-compatible API hands out as a schema id), not its global id.
    props.put(SerdeConfig.ID_HANDLER, "io.apicurio.registry.serde.Default4ByteIdHandler");
    props.put(SerdeConfig.USE_ID, IdOption.contentId.name());

    long seen = 0;
    try (KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(topics);
      while (seen < maxMessages) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("read " + seen + " of " + maxMessages + " records before TIMEOUT_MS");
        }
        for (ConsumerRecord<String, Object> record : consumer.poll(Duration.ofMillis(500))) {
          GenericRecord event = (GenericRecord) record.value();
          StringBuilder line = new StringBuilder("{\"topic\":");
          string(line, record.topic());
          line.append(",\"key\":");
          string(line, record.key());
          line.append(",\"type\":");
          string(line, header(record, "ce_type"));
          line.append(",\"schema\":");
          string(line, event.getSchema().getFullName());
          line.append(",\"event\":");
          json(line, event);
          System.out.println(line.append('}'));
          seen += 1;
        }
      }
    }
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  /** A decoded Avro value as JSON: longs as strings (exact), ints as numbers, records as objects. */
  private static void json(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof GenericRecord record) {
      out.append('{');
      boolean first = true;
      for (Schema.Field field : record.getSchema().getFields()) {
        if (!first) out.append(',');
        first = false;
        string(out, field.name());
        out.append(':');
        json(out, record.get(field.pos()));
      }
      out.append('}');
    } else if (value instanceof Long) {
      string(out, value.toString());
    } else if (value instanceof Integer || value instanceof Boolean) {
      out.append(value);
    } else if (value instanceof Float || value instanceof Double) {
      throw new IllegalStateException("a float in a Tributary event: " + value);
    } else if (value instanceof Collection<?> items) {
      out.append('[');
      boolean first = true;
      for (Object item : items) {
        if (!first) out.append(',');
        first = false;
        json(out, item);
      }
      out.append(']');
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!first) out.append(',');
        first = false;
        string(out, entry.getKey().toString());
        out.append(':');
        json(out, entry.getValue());
      }
      out.append('}');
    } else if (value instanceof ByteBuffer bytes) {
      string(out, hex(bytes.duplicate()));
    } else if (value instanceof GenericFixed fixed) {
      string(out, hex(ByteBuffer.wrap(fixed.bytes())));
    } else {
      string(out, value.toString()); // strings (Utf8) and enum symbols
    }
  }

  private static String hex(ByteBuffer bytes) {
    StringBuilder out = new StringBuilder();
    while (bytes.hasRemaining()) out.append(String.format("%02x", bytes.get()));
    return out.toString();
  }

  private static void string(StringBuilder out, String text) {
    if (text == null) {
      out.append("null");
      return;
    }
    out.append('"');
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    out.append('"');
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static String required(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) throw new IllegalArgumentException(name + " is not set");
    return value;
  }
}
