// Helpers for the gateway's integration specs: run the gateway as its own process, make API keys in
// its database, call it over HTTP, and read what landed in Kafka.
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { DataSource } from 'typeorm';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { ensureSchema } from '@tributary/persistence';
import { eventually, startServiceProcess, uniqueName, type ServiceProcess } from '@tributary/testing';
import type { ApiKeyScope } from '../src/auth/api-key';
import { ApiKeyRepository } from '../src/auth/api-key.store';
import { dataSourceOptions, GATEWAY_SCHEMA } from '../src/database/data-source-options';
import { brokerLayout } from '../../../deploy/kafka/src/config';

/** Re-exported for the gateway's specs, which import it from here. */
export { headersOf } from '@tributary/testing';

export interface RunningGateway {
  readonly process: ServiceProcess;
  readonly baseUrl: string;
}

export async function startGateway(env: Record<string, string>, name = 'gateway'): Promise<RunningGateway> {
  const process = startServiceProcess('services/gateway/src/main.ts', { GATEWAY_HTTP_PORT: '0', ...env }, name);
  const ready = await eventually(() => {
    const match = /gateway ready at (http:\/\/[^ ]+) /.exec(process.output());
    expect(match).not.toBeNull();
    return match![1]!;
  }, 90_000);
  return { process, baseUrl: ready.replace('[::1]', '127.0.0.1') };
}

/** The gateway's tables in a test database, for making and revoking keys as the CLI does. */
export async function keyRepository(
  databaseUrl: string,
): Promise<{ repository: ApiKeyRepository; close(): Promise<void> }> {
  await ensureSchema(databaseUrl, GATEWAY_SCHEMA);
  const dataSource = new DataSource({ ...dataSourceOptions(databaseUrl, 2), logging: ['error'] });
  await dataSource.initialize();
  return { repository: new ApiKeyRepository(dataSource), close: () => dataSource.destroy() };
}

/** A valid InferenceCompleted body with fresh ids, of model-1 and contribution-1. */
export const inference = () => ({
  eventId: `evt-${randomUUID()}`,
  inferenceId: `inference-${randomUUID()}`,
  occurredAt: 1_760_000_000_000,
  modelId: 'model-1',
  agentId: 'agent-1',
  consumerId: 'consumer-1',
  asset: 'USDC',
  feeMinor: '1000',
  attributions: [{ contributionId: 'contribution-1', scorePpm: 1_000_000 }],
  method: 'gradient-similarity/v1',
  latencyMs: 10,
});

export function scope(producerId: string, overrides: Partial<ApiKeyScope> = {}): ApiKeyScope {
  return { producerId, eventTypes: ['*'], datanetIds: ['*'], modelIds: ['*'], ...overrides };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export async function post(
  url: string,
  body: unknown,
  key?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/**
 * Every record of one partition from the beginning up to and including the one `isLast` picks (or all
 * there are once `timeoutMs` passed). Absence is proved with a marker: publish a valid event with the
 * same key after the refused one, read up to it, and the refused one is not there.
 */
export async function readPartitionUntil(
  /** The KAFKA_* variables of the broker to read (its address and the operator's credentials there). */
  kafkaVariables: NodeJS.ProcessEnv,
  topic: string,
  partition: number,
  isLast: (message: KafkaMessage) => boolean,
  timeoutMs = 20_000,
): Promise<KafkaMessage[]> {
  const consumer = new Kafka({
    ...kafkaClientOptions(kafkaEnv(kafkaVariables), 'gateway-spec'),
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: uniqueName('gateway-spec') });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (batch.partition !== partition) return;
          for (const message of batch.messages) {
            messages.push(message);
            if (isLast(message)) {
              clearTimeout(timer);
              resolve();
              return;
            }
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** A port for a dedicated broker, free together with its controller port (port + 1000). */
export async function freeBrokerPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 40_000 + Math.floor(Math.random() * 8_000);
    // Every listener the broker opens: clients, the controller and the inter-broker one (brokerLayout).
    const layout = brokerLayout(port, '');
    if ((await isFree(port)) && (await isFree(layout.controllerPort)) && (await isFree(layout.internalPort)))
      return port;
  }
  throw new Error('no free ports found for a dedicated broker');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
