// What the two outside-reader specs share (node-registry-reader, java-registry-reader): topics of their
// own, an analytics principal to read them as, and one record of every event type (plus a few whose
// amounts are above 2^53) published Confluent-framed with the ids the real schema registry handed out.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { addAnalytics, revokePrincipal } from '@tributary/kafka-provisioner';
import {
  catalogFor,
  EVENT_TYPES,
  eventTopics as analyticsTopics,
  eventKey,
  SchemaIdBook,
  topicCatalog,
  type EventData,
  type EventType,
} from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer, type EventToPublish } from '@tributary/producer';
import { registerEventSchemas } from '@tributary/schema-registry';
import { principalEnv, testClientOptions, testKafkaName, uniqueName, withAdmin } from '@tributary/testing';
import { SAMPLE_EVENTS } from '../../../libs/contracts/src/schemas/sample-events.fixture';

/** Above 2^53 (a JavaScript number would round them), and the largest Avro long. */
export const ABOVE_2_53 = 2n ** 53n + 1n;
export const LONG_MAX = 2n ** 63n - 1n;

/** The events the specs publish: the sample of every type, then three whose amounts no double holds. */
export function eventsToPublish(): EventToPublish[] {
  const samples: EventToPublish[] = EVENT_TYPES.map((type) => ({ type, data: SAMPLE_EVENTS[type] }));
  const huge: EventToPublish[] = [
    {
      type: 'InferenceCompleted',
      data: {
        ...SAMPLE_EVENTS.InferenceCompleted,
        eventId: 'evt-inference-max',
        inferenceId: 'inference-max',
        feeMinor: LONG_MAX,
      },
    },
    {
      type: 'FundsDeposited',
      data: { ...SAMPLE_EVENTS.FundsDeposited, eventId: 'evt-funding-huge', amountMinor: ABOVE_2_53 },
    },
    {
      type: 'PayoutRequested',
      data: {
        ...SAMPLE_EVENTS.PayoutRequested,
        eventId: 'evt-payout-huge',
        payoutId: 'payout-huge',
        amountMinor: ABOVE_2_53 + 2n,
      },
    },
  ];
  return [...samples, ...huge];
}

/** An event as the example readers print it: longs (bigint) as decimal strings, the rest as JSON has it. */
export function asPrinted(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

export interface DecodedLine {
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly event: { readonly eventId: string } & Record<string, unknown>;
}

export interface ReaderStage {
  readonly prefix: string;
  readonly eventTopics: string[];
  readonly reader: string;
  readonly readerPassword: string;
  readonly caFile: string;
  readonly registryUrl: string;
  /** eventId -> what was sent (as printed) and where it went. */
  readonly sent: Map<string, { type: EventType; topic: string; key: string; event: unknown }>;
  stop(): Promise<void>;
}

/** Topics, a reader, the registry's ids, and every event published framed with them. */
export async function stageFramedTopics(name: string): Promise<ReaderStage> {
  const registryUrl = process.env.SCHEMA_REGISTRY_URL;
  if (!registryUrl) throw new Error('SCHEMA_REGISTRY_URL is not set: the test stack starts a schema registry');
  const prefix = `${uniqueName(name)}.`;
  const catalog = catalogFor(prefix);
  await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
  // Every topic an analytics principal reads but the catalog: the event topics and the decisions.
  const eventTopics = analyticsTopics(catalog);
  const reader = `reader-${randomUUID().slice(0, 6)}`;
  const readerPassword = (await addAnalytics(testKafkaName(), reader, prefix)).password.reveal();

  const schemaIds = SchemaIdBook.of(await registerEventSchemas(registryUrl));
  const producer = await TributaryProducer.connect({
    ...testClientOptions(`${name}-producer`),
    source: 'urn:tributary:producer:acme',
    topicPrefix: prefix,
    schemaIds,
  });
  const sent = new Map<string, { type: EventType; topic: string; key: string; event: unknown }>();
  try {
    const events = eventsToPublish();
    const results = await producer.publishBatch(events);
    events.forEach((event, index) => {
      const data = event.data as { eventId: string };
      const key = eventKey(event.type, event.data as EventData<EventType>);
      sent.set(data.eventId, { type: event.type, topic: results[index]!.topic, key, event: asPrinted(data) });
    });
  } finally {
    await producer.disconnect();
  }
  return {
    prefix,
    eventTopics,
    reader,
    readerPassword,
    caFile: principalEnv('operator').KAFKA_CA_FILE!,
    registryUrl,
    sent,
    stop: () =>
      revokePrincipal(testKafkaName(), reader)
        .then(() => undefined)
        .catch(() => undefined),
  };
}

export function runProcess(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}`, timedOut });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** The decoded lines a reader printed, checked against what was sent: every record, every value exact. */
export function expectEverySentRecordDecoded(stage: ReaderStage, stdout: string): DecodedLine[] {
  const lines = stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DecodedLine);
  const byEventId = new Map(lines.map((line) => [line.event.eventId, line]));
  expect(lines).toHaveLength(stage.sent.size);
  expect([...byEventId.keys()].sort()).toEqual([...stage.sent.keys()].sort());
  for (const [eventId, sent] of stage.sent) {
    const decoded = byEventId.get(eventId)!;
    expect({ eventId, topic: decoded.topic, key: decoded.key, event: decoded.event }).toEqual({
      eventId,
      topic: sent.topic,
      key: sent.key,
      event: sent.event,
    });
    expect(decoded.type.endsWith(`.${sent.type}`)).toBe(true);
  }
  return lines;
}
