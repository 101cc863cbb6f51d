// `npm run simulate -- --rate N --count N --via gateway|kafka [--fund P]`: plays the simulated economy
// of @tributary/simulator (pure, seeded) through the gateway over HTTP or straight to Kafka with the
// typed producer client, at a bounded rate, for a bounded count and time, with a progress bar. Then, as
// the treasury, it records its producer paying P% of the fees of the inferences it sent (FundsDeposited
// through the payouts service), so the next epoch close pays their earners; --fund 0 leaves them waiting.
import * as fs from 'node:fs';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { kafkaClientOptions, kafkaEnv, localOperatorTokenFile } from '@tributary/config';
import { topicPrefix } from '@tributary/contracts';
import { TributaryProducer } from '@tributary/producer';
import { installWireFraming } from '@tributary/messaging';
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
  /** The share of the sent inferences' fees the producer pays in at the end, in percent (0: nothing). */
  readonly fundPercent: number;
  readonly payoutsUrl: string;
  /** The payouts service's operator token; needed when fundPercent > 0. */
  readonly operatorToken: string | undefined;
}

/** One deposit the simulator recorded for its producer, per asset its inferences were paid in. */
export interface SimulatedDeposit {
  readonly producer: string;
  readonly asset: string;
  readonly feesMinor: bigint;
  readonly depositedMinor: bigint;
  readonly eventId: string;
}

export interface SimulateSummary {
  readonly sent: number;
  readonly accepted: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly elapsedMs: number;
  /** The producer the records were published as (the gateway's ce_source for the key, or the direct producer's). */
  readonly producer: string | undefined;
  readonly deposits: readonly SimulatedDeposit[];
}

/** The direct Kafka path's producer identity: the source its records declare. */
const KAFKA_PRODUCER_SOURCE = 'urn:tributary:producer:simulator';

const boundedInt = (name: string, min: number, max: number) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max)
    throw new InvalidArgumentError(`--${name} must be an integer from ${min} to ${max}`);
  return parsed;
};

/** A unit of sending: one event, or one batch of them; answers the producer the records were published as. */
export type Send = (events: readonly SimulatedEvent[]) => Promise<string>;

/**
 * Whether later events may refer to this one: every table event (a datanet, a contribution and its
 * validation or revocation, a model). Inferences refer to them and nothing refers to an inference.
 */
function referencedLater(event: SimulatedEvent): boolean {
  return event.type !== 'InferenceCompleted';
}

class SendFailure extends Error {
  constructor(
    readonly label: string,
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

const toJson = (value: unknown) =>
  JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));

function viaGateway(options: SimulateOptions): Send {
  if (!options.apiKey)
    throw new InvalidArgumentError(
      '--via gateway needs an API key: --api-key or GATEWAY_API_KEY (npm run gateway -- keys create ...)',
    );
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` };
  return async (events) => {
    const single = events.length === 1;
    const response = await fetch(
      single ? `${options.gatewayUrl}/events/${events[0]!.type}` : `${options.gatewayUrl}/events/batch`,
      {
        method: 'POST',
        headers,
        body: single ? toJson(events[0]!.data) : toJson({ events }),
        signal: AbortSignal.timeout(30_000),
      },
    ).catch((error: Error) => {
      throw new SendFailure('unreachable', `gateway unreachable at ${options.gatewayUrl}: ${error.message}`, true);
    });
    const body = await response.text();
    if (response.status === 202) return sourceIn(body);
    throw new SendFailure(
      String(response.status),
      `gateway answered ${response.status}: ${body.slice(0, 300)}`,
      response.status === 401 || response.status === 403,
    );
  };
}

async function viaKafka(): Promise<{ send: Send; close(): Promise<void> }> {
  // A direct producer: KAFKA_USERNAME names its principal (one granted the input topics' event types).
  const kafka = kafkaEnv();
  const prefix = topicPrefix();
  // The schema registry's ids, as the services install them: with them every record is Confluent-framed.
  await installWireFraming('simulator');
  const producer = await TributaryProducer.connect({
    ...kafkaClientOptions(kafka, `${kafka.KAFKA_CLIENT_ID}-simulator`),
    source: KAFKA_PRODUCER_SOURCE,
    ...(prefix ? { topicPrefix: prefix } : {}),
  });
  return {
    send: async (events) => {
      try {
        if (events.length === 1) await producer.publish(events[0]!.type, events[0]!.data);
        else await producer.publishBatch(events);
        return KAFKA_PRODUCER_SOURCE;
      } catch (error) {
        throw new SendFailure('kafka', `Kafka refused: ${(error as Error).message}`, false);
      }
    },
    close: () => producer.disconnect(),
  };
}

/**
 * Sends `count` events of the economy at `rate` events/s, never more than `concurrency` sends at once.
 * A send holding a table event is answered before anything after it is sent, so the broker appends the
 * economy in its order: no inference is decided before the model and contributions it names (the join
 * rule compares append times and would refuse it as unknown), and no validation reaches the tables
 * before its submission. `sendVia` replaces the gateway or Kafka path (a test's recorder).
 */
export async function simulate(
  options: SimulateOptions,
  log: (line: string) => void = () => undefined,
  sendVia?: Send,
): Promise<SimulateSummary> {
  if (options.fundPercent > 0 && !options.operatorToken) {
    throw new InvalidArgumentError(
      `--fund ${options.fundPercent} records the producer's deposit through the payouts service and needs its operator token: PAYOUTS_OPERATOR_TOKEN, PAYOUTS_OPERATOR_TOKEN_FILE or the local stack's ${localOperatorTokenFile()} (npm start writes it); --fund 0 sends without funding`,
    );
  }
  const kafka = sendVia === undefined && options.via === 'kafka' ? await viaKafka() : undefined;
  const send = sendVia ?? kafka?.send ?? viaGateway(options);
  const events = simulateEconomy({
    ...ECONOMY_DEFAULTS,
    seed: options.seed,
    runId: options.runId,
    startTimeMs: BigInt(Date.now()),
  });
  const bar = options.progress
    ? new SingleBar(
        { format: 'simulate |{bar}| {value}/{total} events | {speed} ev/s | failed {failed}', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  const failures: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let fatal: SendFailure | undefined;
  let producer: string | undefined;
  const fees = new Map<string, bigint>();
  const inFlight = new Set<Promise<void>>();
  /** The sends in flight holding a table event: the next send waits for them (they never reject). */
  const referenced = new Set<Promise<void>>();
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
      if (referenced.size > 0) await Promise.all(referenced);
      sent += unit.length;
      const sending: Promise<void> = send(unit)
        .then((source) => {
          accepted += unit.length;
          producer = source;
          for (const { type, data } of unit) {
            if (type === 'InferenceCompleted') fees.set(data.asset, (fees.get(data.asset) ?? 0n) + data.feeMinor);
          }
        })
        .catch((error: unknown) => {
          const failure =
            error instanceof SendFailure ? error : new SendFailure('error', (error as Error).message, false);
          failed += unit.length;
          failures[failure.label] = (failures[failure.label] ?? 0) + unit.length;
          if (failure.fatal) fatal = failure;
          if (failed === unit.length || failure.fatal) log(`first failure: ${failure.message}`);
        })
        .finally(() => {
          inFlight.delete(sending);
          referenced.delete(sending);
          const elapsedS = Math.max(0.001, (Date.now() - startedMs) / 1_000);
          bar?.update(accepted + failed, { speed: Math.round((accepted + failed) / elapsedS), failed });
        });
      inFlight.add(sending);
      if (unit.some(referencedLater)) referenced.add(sending);
    }
    await Promise.all(inFlight);
  } finally {
    bar?.stop();
    await kafka?.close();
  }
  if (Date.now() >= deadlineMs && sent < options.count)
    log(`stopped after --duration-max-s ${options.durationMaxS}: ${sent} of ${options.count} sent`);
  const deposits = producer === undefined ? [] : await fund(options, producer, fees, log);
  return { sent, accepted, failed, failures, elapsedMs: Date.now() - startedMs, producer, deposits };
}

/**
 * The treasury's side of the run: per asset, fundPercent of the fees of the inferences Kafka acknowledged
 * (rounded down), recorded as the producer's deposit through the payouts service. The event id is the
 * run's, so re-running the funding of one run records it once.
 */
async function fund(
  options: SimulateOptions,
  producer: string,
  fees: ReadonlyMap<string, bigint>,
  log: (line: string) => void,
): Promise<SimulatedDeposit[]> {
  const deposits: SimulatedDeposit[] = [];
  for (const [asset, feesMinor] of fees) {
    const depositedMinor = (feesMinor * BigInt(options.fundPercent)) / 100n;
    const eventId = `simulate-${options.runId}-${asset}`;
    if (depositedMinor > 0n) {
      const response = await fetch(`${options.payoutsUrl}/funding/deposits`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.operatorToken}` },
        body: JSON.stringify({
          eventId,
          producer,
          asset,
          amountMinor: depositedMinor.toString(),
          railReference: `simulate:${options.runId}`,
        }),
        signal: AbortSignal.timeout(30_000),
      }).catch((error: Error) => {
        throw new Error(
          `the payouts service is unreachable at ${options.payoutsUrl} to record the deposit: ${error.message}`,
        );
      });
      if (response.status !== 201)
        throw new Error(
          `the payouts service refused the deposit (${response.status}): ${(await response.text()).slice(0, 300)}`,
        );
    }
    deposits.push({ producer, asset, feesMinor, depositedMinor, eventId });
    log(
      depositedMinor > 0n
        ? `the treasury recorded ${producer} depositing ${depositedMinor} of its ${feesMinor} ${asset} minor units of fees (${options.fundPercent}%)`
        : `${producer} deposited nothing for its ${feesMinor} ${asset} minor units of fees: its earners' credits wait on funding (ledger API /v1/producers/<source>/funding)`,
    );
  }
  return deposits;
}

/** The ce_source the gateway answered with: a single event's result, or the first of a batch's. */
function sourceIn(body: string): string {
  const parsed = JSON.parse(body) as { source?: unknown; results?: Array<{ source?: unknown }> };
  const source = parsed.source ?? parsed.results?.[0]?.source;
  if (typeof source !== 'string')
    throw new SendFailure('unexpected', `the gateway's 202 names no source: ${body.slice(0, 300)}`, true);
  return source;
}

/** The operator token: PAYOUTS_OPERATOR_TOKEN, else the file PAYOUTS_OPERATOR_TOKEN_FILE names, else the local stack's. */
function operatorToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PAYOUTS_OPERATOR_TOKEN) return env.PAYOUTS_OPERATOR_TOKEN;
  const file = env.PAYOUTS_OPERATOR_TOKEN_FILE ?? localOperatorTokenFile(env);
  if (!env.PAYOUTS_OPERATOR_TOKEN_FILE && !fs.existsSync(file)) return undefined;
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token.length === 0) throw new InvalidArgumentError(`PAYOUTS_OPERATOR_TOKEN_FILE: ${file} is empty`);
  return token;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function simulateCli(): Command {
  return new Command('simulate')
    .description(
      'play a simulated AI economy (datanets, contributions, validations, models, paid inferences) into Tributary',
    )
    .option('--rate <events/s>', 'events per second', boundedInt('rate', 1, 100_000), 50)
    .option('--count <events>', 'events to send in all', boundedInt('count', 1, 10_000_000), 1_000)
    .addOption(
      new Option('--via <path>', 'through the HTTP gateway or straight to Kafka')
        .choices(['gateway', 'kafka'])
        .default('gateway'),
    )
    .option(
      '--seed <n>',
      'seed of the economy: the same seed and run id give the same events',
      boundedInt('seed', 0, 2 ** 31),
      1,
    )
    .option('--run-id <id>', 'prefix of every id, so runs do not collide (default: from the clock)')
    .option(
      '--batch-size <events>',
      'events per request (1: one per event type endpoint; more: the batch endpoint)',
      boundedInt('batch-size', 1, 1_000),
      1,
    )
    .option('--concurrency <n>', 'requests in flight at most', boundedInt('concurrency', 1, 256), 16)
    .option('--gateway-url <url>', 'the gateway', 'http://127.0.0.1:3100')
    .option('--api-key <key>', 'API key for the gateway (or GATEWAY_API_KEY)')
    .option(
      '--duration-max-s <s>',
      'stop after this long whatever is left',
      boundedInt('duration-max-s', 1, 86_400),
      600,
    )
    .option('--no-progress', 'no progress bar (for logs)')
    .option(
      '--fund <percent>',
      "share of the sent inferences' fees the producer deposits at the end (0: none, so its earners wait on funding)",
      boundedInt('fund', 0, 100),
      100,
    )
    .option(
      '--payouts-url <url>',
      'the payouts service, where the deposit is recorded (operator token: PAYOUTS_OPERATOR_TOKEN or PAYOUTS_OPERATOR_TOKEN_FILE)',
      'http://127.0.0.1:3104',
    )
    .action(async (raw: Record<string, unknown>) => {
      const runId = (raw['runId'] as string | undefined) ?? `sim${Date.now().toString(36)}`;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId))
        throw new InvalidArgumentError('--run-id must be 1 to 64 letters, digits, "_" or "-"');
      const gatewayUrl = baseUrl('gateway-url', raw['gatewayUrl']);
      const payoutsUrl = baseUrl('payouts-url', raw['payoutsUrl']);
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
        fundPercent: raw['fund'] as number,
        payoutsUrl,
        operatorToken: (raw['fund'] as number) > 0 ? operatorToken() : undefined,
      };
      const log = (line: string) => process.stderr.write(`simulate: ${line}\n`);
      log(
        `run ${runId}, seed ${options.seed}: ${options.count} events at ${options.rate}/s via ${options.via}${options.via === 'gateway' ? ` (${gatewayUrl})` : ''}`,
      );
      const summary = await simulate(options, log);
      log(
        `${summary.accepted} accepted, ${summary.failed} failed ${JSON.stringify(summary.failures)} in ${(summary.elapsedMs / 1_000).toFixed(1)} s`,
      );
      if (summary.failed > 0 || summary.accepted < options.count) process.exitCode = 1;
    });
}

function baseUrl(option: string, value: unknown): string {
  const url = String(value).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+$/.test(url)) throw new InvalidArgumentError(`--${option} must be http(s)://host[:port]`);
  return url;
}

if (require.main === module) {
  installKafkaWireFastPaths();
  simulateCli()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`simulate: ${(error as Error).message}\n`);
      process.exit(1);
    });
}
