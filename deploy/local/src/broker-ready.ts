import { Kafka, logLevel } from 'kafkajs';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { topicCatalog } from '@tributary/contracts';
import { ensureTopics, topicsEnv } from '@tributary/messaging';

const PROBE_ID = 'tributary.start.probe';

/**
 * Makes a fresh broker ready for the services before they start: the topic catalog created once, and the
 * group and transaction coordinators loaded. A new KRaft broker creates __consumer_offsets and
 * __transaction_state on first use and answers "coordinator is loading" until they are; services
 * started before that retry and recover, but kafkajs logs every retried response as an error, and five
 * services creating the same topics at once log "topic already exists" the same way. A newcomer's first
 * screen should not be red for nothing. Kafka's own retries here, bounded, with its logging off.
 */
export async function prepareBroker(operatorEnv: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  // Bounded: about 20 s of retries before a broker that never answers is reported.
  const kafka = new Kafka({
    ...kafkaClientOptions(kafkaEnv(operatorEnv), PROBE_ID),
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, maxRetryTime: 4_000 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ transactionalId: PROBE_ID, idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    const created = await ensureTopics(admin, topicCatalog(), topicsEnv(operatorEnv).KAFKA_REPLICATION_FACTOR);
    if (created.length > 0) say(`created the catalog's ${created.length} topics`);
    // Finds the group coordinator of a group that never joins: loads __consumer_offsets, changes nothing.
    await admin.describeGroups([PROBE_ID]);
    await producer.connect();
    // Finds the transaction coordinator (loads __transaction_state); the empty transaction writes nothing.
    const transaction = await producer.transaction();
    await transaction.abort();
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
