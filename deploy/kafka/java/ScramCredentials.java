// Creates, rotates, deletes and lists SCRAM-SHA-512 credentials through Kafka's Admin API, for the
// provisioner (deploy/kafka/src/credentials.ts). kafkajs has no call for them, and Kafka's own
// kafka-configs would take passwords as arguments, which any local user can list; here they come on
// standard input, one command per line:
//   upsert <TAB> <principal> <TAB> <password>
//   delete <TAB> <principal>
//   list
// Run in source-file mode against the cached Kafka jars:
//   java -cp '<libs>/*' ScramCredentials.java <client.properties> <bootstrap servers>
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public final class ScramCredentials {
  private static final int ITERATIONS = 8192;
  private static final long TIMEOUT_SECONDS = 60;

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: ScramCredentials <client.properties> <bootstrap servers>");
      System.exit(2);
    }
    Properties config = new Properties();
    try (FileInputStream in = new FileInputStream(args[0])) {
      config.load(in);
    }
    if (!args[1].isEmpty()) config.setProperty("bootstrap.servers", args[1]);
    List<UserScramCredentialAlteration> alterations = new ArrayList<>();
    boolean list = false;
    BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = reader.readLine()) != null; ) {
      String[] fields = line.split("\t", -1);
      switch (fields[0]) {
        case "upsert" -> alterations.add(new UserScramCredentialUpsertion(
            fields[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS), fields[2]));
        case "delete" -> alterations.add(new UserScramCredentialDeletion(fields[1], ScramMechanism.SCRAM_SHA_512));
        case "list" -> list = true;
        case "" -> { }
        default -> throw new IllegalArgumentException("unknown command: " + fields[0]);
      }
    }
    try (Admin admin = Admin.create(config)) {
      if (!alterations.isEmpty()) {
        admin.alterUserScramCredentials(alterations).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
      if (list) {
        for (String user : new TreeSet<>(admin.describeUserScramCredentials().users().get(TIMEOUT_SECONDS, TimeUnit.SECONDS))) {
          System.out.println(user);
        }
      }
    }
  }
}
