// `npm run simulate -- --rate N --count N --via gateway|kafka`: plays the simulated economy of
// @tributary/simulator (pure, seeded) through the gateway over HTTP or straight to Kafka with the typed
// producer client, at a bounded rate, for a bounded count and time, with a progress bar.
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { topicPrefix } from '@tributary/contracts';
import { TributaryProducer } from '@tributary/producer';
import { ECONOMY_DEFAULTS, simulateEconomy, type SimulatedEvent } from '@tributary/simulator';

export interface SimulateOptions {
  readonly rate: number;
  readonly count: number;
  readonly via: 'gateway' | 'kafka';
  readonly seed: number;
  readonly runId: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly gatewayUrl: string;
  readonly apiKey: string | undefined;
  readonly durationMaxS: number;
  readonly progress: boolean;
}

export interface SimulateSummary {
  readonly sent: number;
  readonly accepted: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly elapsedMs: number;
}

const boundedInt = (name: string, min: number, max: number) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`--${name} must be an integer from ${min} to ${max}`);
  return parsed;
};

/** A unit of sending: one event, or one batch of them. */
type Send = (events: readonly SimulatedEvent[]) => Promise<void>;

class SendFailure extends Error {
  constructor(readonly label: string, message: string, readonly fatal: boolean) {
    super(message);
  }
}

const toJson = (value: unknown) => JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));

function viaGateway(options: SimulateOptions): Send {
  if (!options.apiKey) throw new InvalidArgumentError('--via gateway needs an API key: --api-key or GATEWAY_API_KEY (npm run gateway -- keys create ...)');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` };
  return async (events) => {
    const single = events.length === 1;
    const response = await fetch(single ? `${options.gatewayUrl}/events/${events[0]!.type}` : `${options.gatewayUrl}/events/batch`, {
      method: 'POST',
      headers,
      body: single ? toJson(events[0]!.data) : toJson({ events }),
      signal: AbortSignal.timeout(30_000),
    }).catch((error: Error) => {
      throw new SendFailure('unreachable', `gateway unreachable at ${options.gatewayUrl}: ${error.message}`, true);
    });
    if (response.status === 202) return;
    const body = await response.text();
    throw new SendFailure(String(response.status), `gateway answered ${response.status}: ${body.slice(0, 300)}`, response.status === 401 || response.status === 403);
  };
}

async function viaKafka(options: SimulateOptions): Promise<{ send: Send; close(): Promise<void> }> {
  // A direct producer: KAFKA_USERNAME names its principal (one granted the input topics' event types).
  const kafka = kafkaEnv();
  const prefix = topicPrefix();
  const producer = await TributaryProducer.connect({
    ...kafkaClientOptions(kafka, `${kafka.KAFKA_CLIENT_ID}-simulator`),
    source: 'urn:tributary:producer:simulator',
    ...(prefix ? { topicPrefix: prefix } : {}),
  });
  return {
    send: async (events) => {
      try {
        if (events.length === 1) await producer.publish(events[0]!.type, events[0]!.data as never);
        else await producer.publishBatch(events);
      } catch (error) {
        throw new SendFailure('kafka', `Kafka refused: ${(error as Error).message}`, false);
      }
    },
    close: () => producer.disconnect(),
  };
}

/** Sends `count` events of the economy at `rate` events/s, never more than `concurrency` sends at once. */
export async function simulate(options: SimulateOptions, log: (line: string) => void = () => undefined): Promise<SimulateSummary> {
  const kafka = options.via === 'kafka' ? await viaKafka(options) : undefined;
  const send = kafka?.send ?? viaGateway(options);
  const events = simulateEconomy({ ...ECONOMY_DEFAULTS, seed: options.seed, runId: options.runId, startTimeMs: BigInt(Date.now()) });
  const bar = options.progress ? new SingleBar({ format: 'simulate |{bar}| {value}/{total} events | {speed} ev/s | failed {failed}', hideCursor: true }, Presets.shades_classic) : undefined;
  const failures: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let fatal: SendFailure | undefined;
  const inFlight = new Set<Promise<void>>();
  const startedMs = Date.now();
  const deadlineMs = startedMs + options.durationMaxS * 1_000;
  bar?.start(options.count, 0, { speed: 0, failed: 0 });
  try {
    // Sends go out in order, while earlier ones may still be in flight; each waits for its slot in time.
    while (sent < options.count && fatal === undefined && Date.now() < deadlineMs) {
      const unit: SimulatedEvent[] = [];
      while (unit.length < options.batchSize && sent + unit.length < options.count) unit.push(events.next().value);
      const dueMs = startedMs + ((sent + unit.length) / options.rate) * 1_000;
      if (dueMs > Date.now()) await sleep(dueMs - Date.now());
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      sent += unit.length;
      const sending: Promise<void> = send(unit)
        .then(() => void (accepted += unit.length))
        .catch((error: unknown) => {
          const failure = error instanceof SendFailure ? error : new SendFailure('error', (error as Error).message, false);
          failed += unit.length;
          failures[failure.label] = (failures[failure.label] ?? 0) + unit.length;
          if (failure.fatal) fatal = failure;
          if (failed === unit.length || failure.fatal) log(`first failure: ${failure.message}`);
        })
        .finally(() => {
          inFlight.delete(sending);
          const elapsedS = Math.max(0.001, (Date.now() - startedMs) / 1_000);
          bar?.update(accepted + failed, { speed: Math.round((accepted + failed) / elapsedS), failed });
        });
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
  } finally {
    bar?.stop();
    await kafka?.close();
  }
  if (Date.now() >= deadlineMs && sent < options.count) log(`stopped after --duration-max-s ${options.durationMaxS}: ${sent} of ${options.count} sent`);
  return { sent, accepted, failed, failures, elapsedMs: Date.now() - startedMs };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function simulateCli(): Command {
  return new Command('simulate')
    .description('play a simulated AI economy (datanets, contributions, validations, models, paid inferences) into Tributary')
    .option('--rate <events/s>', 'events per second', boundedInt('rate', 1, 100_000), 50)
    .option('--count <events>', 'events to send in all', boundedInt('count', 1, 10_000_000), 1_000)
    .addOption(new Option('--via <path>', 'through the HTTP gateway or straight to Kafka').choices(['gateway', 'kafka']).default('gateway'))
    .option('--seed <n>', 'seed of the economy: the same seed and run id give the same events', boundedInt('seed', 0, 2 ** 31), 1)
    .option('--run-id <id>', 'prefix of every id, so runs do not collide (default: from the clock)')
    .option('--batch-size <events>', 'events per request (1: one per event type endpoint; more: the batch endpoint)', boundedInt('batch-size', 1, 1_000), 1)
    .option('--concurrency <n>', 'requests in flight at most', boundedInt('concurrency', 1, 256), 16)
    .option('--gateway-url <url>', 'the gateway', 'http://127.0.0.1:3100')
    .option('--api-key <key>', 'API key for the gateway (or GATEWAY_API_KEY)')
    .option('--duration-max-s <s>', 'stop after this long whatever is left', boundedInt('duration-max-s', 1, 86_400), 600)
    .option('--no-progress', 'no progress bar (for logs)')
    .action(async (raw: Record<string, unknown>) => {
      const runId = (raw['runId'] as string | undefined) ?? `sim${Date.now().toString(36)}`;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) throw new InvalidArgumentError('--run-id must be 1 to 64 letters, digits, "_" or "-"');
      const gatewayUrl = String(raw['gatewayUrl']).replace(/\/+$/, '');
      if (!/^https?:\/\/[^\s/]+$/.test(gatewayUrl)) throw new InvalidArgumentError('--gateway-url must be http(s)://host[:port]');
      const options: SimulateOptions = {
        rate: raw['rate'] as number,
        count: raw['count'] as number,
        via: raw['via'] as 'gateway' | 'kafka',
        seed: raw['seed'] as number,
        runId,
        batchSize: raw['batchSize'] as number,
        concurrency: raw['concurrency'] as number,
        gatewayUrl,
        apiKey: (raw['apiKey'] as string | undefined) ?? process.env.GATEWAY_API_KEY,
        durationMaxS: raw['durationMaxS'] as number,
        progress: raw['progress'] as boolean,
      };
      const log = (line: string) => process.stderr.write(`simulate: ${line}\n`);
      log(`run ${runId}, seed ${options.seed}: ${options.count} events at ${options.rate}/s via ${options.via}${options.via === 'gateway' ? ` (${gatewayUrl})` : ''}`);
      const summary = await simulate(options, log);
      log(`${summary.accepted} accepted, ${summary.failed} failed ${JSON.stringify(summary.failures)} in ${(summary.elapsedMs / 1_000).toFixed(1)} s`);
      if (summary.failed > 0 || summary.accepted < options.count) process.exitCode = 1;
    });
}

if (require.main === module) {
  simulateCli()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`simulate: ${(error as Error).message}\n`);
      process.exit(1);
    });
}
