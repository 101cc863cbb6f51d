import type { Admin, ITopicConfig } from 'kafkajs';
import { createKafkaClient } from '@tributary/kafka-client';
import { z } from 'zod';
import { boundedInt, kafkaClientOptions, kafkaEnv, parseEnv } from '@tributary/config';
import {
  catalogFor,
  serviceGrants,
  topicCatalog,
  topicPrefix,
  type ServicePrincipal,
  type TopicSpec,
} from '@tributary/contracts';

const topicsSchema = z.object({
  /** 1 on the single local broker; 3 on a production cluster. */
  KAFKA_REPLICATION_FACTOR: boundedInt(1, 7, 1),
});
export const topicsEnv = (env?: NodeJS.ProcessEnv) => parseEnv('topics', topicsSchema, env);

/** Each topic's full config: the catalog's, plus durability settings that follow the replication factor. */
export function topicConfig(spec: TopicSpec, replicationFactor: number): ITopicConfig {
  // With acks=all, min.insync.replicas=2 of 3 survives one broker loss without accepting unreplicated writes.
  const minInsyncReplicas = Math.min(2, replicationFactor);
  const entries = { ...spec.config, 'min.insync.replicas': String(minInsyncReplicas) };
  return {
    topic: spec.name,
    numPartitions: spec.partitions,
    replicationFactor,
    configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
  };
}

/**
 * Creates the catalog's topics that do not exist yet; existing ones are left as they are (changing a
 * live topic's partitions or configs is an operator's decision, made with kafka-configs). Returns the
 * names it created.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  replicationFactor: number,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  // One spec per name: a caller's list may name a catalog topic twice (a group's DLQ added by hand).
  const missing = [...new Map(specs.map((spec) => [spec.name, spec])).values()].filter(
    (spec) => !existing.has(spec.name),
  );
  if (missing.length === 0) return [];
  try {
    // kafkajs's own waitForLeaders retries only LEADER_NOT_AVAILABLE, while a KRaft broker answers
    // UNKNOWN_TOPIC_OR_PARTITION for a moment after creation; waitForMetadata below tolerates both.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((spec) => topicConfig(spec, replicationFactor)),
    });
  } catch (error) {
    // Two services starting together may race to create the same topic; that one is then there.
    if (errorTypes(error).includes('TOPIC_ALREADY_EXISTS')) return [];
    if (errorTypes(error).some((type) => type.endsWith('AUTHORIZATION_FAILED'))) {
      throw new Error(
        `topics ${missing.map((spec) => spec.name).join(', ')} do not exist, and this principal may not create them: ` +
          'the operator creates the topic catalog (npm start does at start-up; on Kubernetes the KafkaTopic manifests do)',
      );
    }
    throw error;
  }
  const created = missing.map((spec) => spec.name);
  await waitForMetadata(admin, created);
  return created;
}

const METADATA_WAIT_MS_MAX = 30_000;
const METADATA_POLL_MS = 200;

/**
 * A topic just created may not be in the broker's metadata yet ("does not host this
 * topic-partition"); callers that read its metadata right away would fail. Waits, bounded, until
 * every partition of every topic has a leader.
 */
async function waitForMetadata(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + METADATA_WAIT_MS_MAX;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (
        metadata.topics.every(
          (topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
        )
      )
        return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline)
      throw new Error(`topics ${topics.join(', ')} have no leaders after ${METADATA_WAIT_MS_MAX} ms`);
    await new Promise((resolve) => setTimeout(resolve, METADATA_POLL_MS));
  }
}

/** The error types of a kafkajs error and the errors it aggregates (createTopics reports one per topic). */
function errorTypes(error: unknown): string[] {
  const { type, errors } = error as { type?: string; errors?: unknown[] };
  return [...(type ? [type] : []), ...(Array.isArray(errors) ? errors.flatMap(errorTypes) : [])];
}

/**
 * Start-up step of every service: the catalog's topics this service uses exist, with their configs,
 * before anything flows. A service sees only the topics its ACLs name, so it checks those and no
 * others; where its principal may not create a missing one, start-up stops with the reason.
 */
export async function ensureTopicCatalog(
  service: ServicePrincipal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const kafka = kafkaEnv(env, service);
  const used = new Set(
    serviceGrants(service, catalogFor(topicPrefix(env))).flatMap((grant) =>
      grant.resourceType === 'topic' ? [grant.name] : [],
    ),
  );
  const admin = createKafkaClient(kafkaClientOptions(kafka)).admin();
  await admin.connect();
  try {
    const specs = topicCatalog(catalogFor(topicPrefix(env))).filter((spec) => used.has(spec.name));
    return await ensureTopics(admin, specs, topicsEnv(env).KAFKA_REPLICATION_FACTOR);
  } finally {
    await admin.disconnect();
  }
}
