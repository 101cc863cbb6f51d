import { createIdempotentProducer, createKafkaClient } from '@tributary/kafka-client';
import { kafkaClientOptions, type KafkaEnv } from '@tributary/config';
import { schemaCatalogEntries, TOPICS } from '@tributary/contracts';

/**
 * Publishes every writer schema to the compacted schema topic, keyed by fingerprint. Republishing at
 * every start is harmless: compaction keeps one record per fingerprint, and a schema never changes
 * under its fingerprint. With `registryIds` (a registry runs) each entry also says its registry id; a
 * later start with a registry replaces the entry without one.
 */
export async function publishSchemaCatalog(
  kafka: KafkaEnv,
  registryIds?: ReadonlyMap<string, number>,
): Promise<number> {
  const producer = createIdempotentProducer(createKafkaClient(kafkaClientOptions(kafka)));
  await producer.connect();
  try {
    const entries = schemaCatalogEntries(registryIds);
    await producer.send({
      topic: TOPICS.schemas.name,
      acks: -1,
      messages: entries.map((entry) => ({
        key: entry.fingerprint,
        value: JSON.stringify(entry),
        headers: {
          'content-type': 'application/json',
          ce_schemaname: entry.name,
          ce_schemaversion: String(entry.version),
        },
      })),
    });
    return entries.length;
  } finally {
    await producer.disconnect();
  }
}
