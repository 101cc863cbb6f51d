// `npm start`: brings the whole stack up on this machine (a KRaft broker from Kafka's own jars, the
// local PostgreSQL, every service) and keeps it running with readable, prefixed logs. Ctrl-C stops
// everything it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  applyServiceAcls,
  credentialFiles,
  formatProvisionError,
  KAFKA_VERSION,
  ProvisionError,
  startKafka,
  type RunningKafka,
} from '@tributary/kafka-provisioner';
import { localOperatorTokenFile, localReadCredentialFile, redactUrlsIn } from '@tributary/config';
import { REGISTRY_VERSION, startRegistry, type RunningRegistry } from '@tributary/registry-provisioner';
import { registerEventSchemas, SCHEMA_REGISTRY_URL, schemaRegistryUrl } from '@tributary/schema-registry';
import { topicPrefix } from '@tributary/contracts';
import { whereToReachLines } from './src/banner';
import { prepareBroker } from './src/broker-ready';
import { ensureOperatorReadCredential } from './src/read-credential';
import { runOwnerSteps } from './src/owner-steps';
import { ensurePostgres } from './src/postgres';
import { LOCAL_SERVICES, type LocalService } from './src/services';
import {
  DEV_DATABASE_URL,
  DEV_KAFKA_NAME,
  DEV_KAFKA_PORT,
  DEV_REGISTRY_NAME,
  DEV_REGISTRY_PORT,
} from './src/stack-ports';

const ROOT = path.resolve(__dirname, '../..');
const STOP_TIMEOUT_MS = 15_000;
const COLORS = [36, 35, 33, 32, 34, 91];
const say = (line: string) => process.stdout.write(`\x1b[1mtributary\x1b[0m ${line}\n`);

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? DEV_DATABASE_URL;
  const port = Number(process.env.KAFKA_PORT ?? DEV_KAFKA_PORT);
  say(
    process.env.KAFKA_BROKERS
      ? `using Kafka at ${process.env.KAFKA_BROKERS} (KAFKA_BROKERS) and PostgreSQL at ${new URL(databaseUrl).host}`
      : `starting Kafka ${KAFKA_VERSION} (KRaft) on 127.0.0.1:${port} and PostgreSQL at ${new URL(databaseUrl).host}`,
  );
  // Kafka and the services run in process groups of their own, so a Ctrl-C reaches only this process,
  // which then stops them in order: services first, then the broker they write to.
  const kafka = process.env.KAFKA_BROKERS
    ? null
    : await startKafka({ port, name: DEV_KAFKA_NAME, detached: true, log: say });
  if (kafka?.security === 'plaintext')
    say(
      '\x1b[33mWARNING\x1b[0m KAFKA_SECURITY=plaintext: Kafka runs without authentication or ACLs; anyone who reaches port ' +
        port +
        ' may write any topic',
    );
  await ensurePostgres(databaseUrl, say);
  const registry = await startSchemaRegistry(databaseUrl).catch(async (error: unknown) => {
    await kafka?.stop();
    throw error;
  });
  const brokers = process.env.KAFKA_BROKERS ?? kafka!.brokers;
  // An external cluster (KAFKA_BROKERS) is reached with the KAFKA_* credentials of this environment.
  const envAs = (principal: string): Record<string, string> =>
    kafka ? kafka.clientEnv(principal) : { KAFKA_BROKERS: brokers };
  await prepareBroker({ ...process.env, ...envAs('operator') }, say)
    .then(() => (kafka?.security === 'sasl_ssl' ? applyServiceAcls(DEV_KAFKA_NAME, topicPrefix()) : undefined))
    .catch(async (error: Error) => {
      await Promise.all([kafka?.stop(), registry.handle?.stop()]);
      throw new ProvisionError(
        `Kafka at ${brokers} did not get ready (${error.message})`,
        kafka ? `see the broker log ${kafka.logFile}` : 'check that KAFKA_BROKERS names running brokers',
      );
    });
  const operatorToken = ensureOperatorToken();
  // The owner steps run here, with the owner's connection; each service is handed its own role's alone.
  const roleEnv = await runOwnerSteps(databaseUrl, LOCAL_SERVICES);
  // Issued before the services start, so the dashboard can be signed in to as soon as the ledger API is up.
  await ensureOperatorReadCredential(databaseUrl, localReadCredentialFile());
  const children = LOCAL_SERVICES.map((service, index) =>
    startService(service, index, {
      ...envAs(service.name),
      [SCHEMA_REGISTRY_URL]: registry.url,
      ...roleEnv.get(service.name),
      ...(service.name === 'payouts' ? { PAYOUTS_OPERATOR_TOKEN: operatorToken } : {}),
    }),
  );
  printWhereToReach(brokers, databaseUrl, kafka, registry.url);
  const demo = runDemo(databaseUrl, brokers, kafka, operatorToken);
  await waitForSignal();
  demo.stop();
  say('stopping services, then the schema registry and Kafka');
  await Promise.all(children.map(stopChild));
  await Promise.all([registry.handle?.stop(), kafka?.stop()]);
  say('stopped');
}

/**
 * The schema registry the stack's records are described in: SCHEMA_REGISTRY_URL when given (someone
 * else's, left running), else Apicurio Registry on 127.0.0.1:REGISTRY_PORT (8081) with its data in its own
 * database beside DATABASE_URL's, started detached like Kafka. Every event schema is registered before any
 * service starts (idempotently: a restart finds them all and keeps their ids).
 */
async function startSchemaRegistry(databaseUrl: string): Promise<{ url: string; handle: RunningRegistry | undefined }> {
  const given = schemaRegistryUrl();
  const port = Number(process.env.REGISTRY_PORT ?? DEV_REGISTRY_PORT);
  const handle = given
    ? undefined
    : await startRegistry({ name: DEV_REGISTRY_NAME, port, ownerDatabaseUrl: databaseUrl, detached: true, log: say });
  const url = given ?? handle!.ccompatUrl;
  const ids = await registerEventSchemas(url).catch(async (error: unknown) => {
    await handle?.stop();
    throw error;
  });
  say(
    `schema registry${handle ? ` (Apicurio Registry ${REGISTRY_VERSION})` : ''} at ${url}: ${ids.size} event schema versions registered, one subject per event type, compatibility FULL`,
  );
  return { url, handle };
}

/**
 * The payouts service's operator token for this machine's stack (PAYOUTS_OPERATOR_TOKEN if set): made
 * once, kept in a file only its owner reads, never printed; the simulator reads the same file.
 */
function ensureOperatorToken(): string {
  if (process.env.PAYOUTS_OPERATOR_TOKEN) return process.env.PAYOUTS_OPERATOR_TOKEN;
  const file = localOperatorTokenFile();
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

function startService(service: LocalService, index: number, env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', path.join(ROOT, service.main)],
    {
      cwd: ROOT,
      env: {
        ...withoutOwnerUrl(process.env),
        ...env,
        [service.httpPortVariable]: String(service.httpPort),
        TS_NODE_TRANSPILE_ONLY: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const prefix = `\x1b[${COLORS[index % COLORS.length]}m${service.name.padEnd(18)}\x1b[0m|`;
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix} ${line}\n`));
  }
  child.on('exit', (code, signal) => say(`${service.name} exited (${signal ?? `code ${code}`})`));
  return child;
}

/** The environment without DATABASE_URL: a service gets its role's connection, never the owner's. */
function withoutOwnerUrl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _owner, ...rest } = env;
  return rest;
}

function printWhereToReach(
  brokers: string,
  databaseUrl: string,
  kafka: RunningKafka | null,
  schemaRegistryUrl: string,
): void {
  const lines = whereToReachLines({
    brokers,
    commandConfig: commandConfig(kafka),
    databaseUrl,
    schemaRegistryUrl,
    services: LOCAL_SERVICES,
    operatorTokenFile: path.relative(ROOT, localOperatorTokenFile()),
    readCredentialFile: path.relative(ROOT, localReadCredentialFile()),
  });
  for (const line of lines) say(line);
}

const DEMO_EVENTS = 200;
const DEMO_READY_TIMEOUT_MS = 90_000;

/**
 * A newcomer's first sight of events flowing: once the gateway is ready, a key for a demo producer and a
 * short simulated economy through it (bounded in count and time). The simulator then records, as the
 * treasury, the demo producer paying TRIBUTARY_DEMO_FUNDING percent of its fees (default 100), so the
 * next epoch close pays its earners; with 0 the ledger shows their credits waiting on that producer, and
 * with 50 half of them. Any failure is one line, never fatal. TRIBUTARY_DEMO=0 skips it.
 */
function runDemo(
  databaseUrl: string,
  brokers: string,
  kafka: RunningKafka | null,
  operatorToken: string,
): { stop(): void } {
  const gateway = LOCAL_SERVICES.find((service) => service.name === 'gateway');
  const payouts = LOCAL_SERVICES.find((service) => service.name === 'payouts');
  let current: ChildProcess | undefined;
  let stopped = false;
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<string>((resolve, reject) => {
      current = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', ...args],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            DATABASE_URL: databaseUrl,
            KAFKA_BROKERS: brokers,
            PAYOUTS_OPERATOR_TOKEN: operatorToken,
            TS_NODE_TRANSPILE_ONLY: 'true',
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      current.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      readline.createInterface({ input: current.stderr! }).on('line', (line) => say(`  demo | ${line}`));
      current.on('exit', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`${path.basename(args[0]!)} exited with ${code}`)),
      );
    });
  const demo = async () => {
    if (process.env.TRIBUTARY_DEMO === '0' || !gateway || !payouts) return;
    const fund = process.env.TRIBUTARY_DEMO_FUNDING ?? '100';
    if (!/^(100|[1-9]?\d)$/.test(fund))
      throw new Error(`TRIBUTARY_DEMO_FUNDING: must be a percent from 0 to 100, got "${fund}"`);
    const url = `http://127.0.0.1:${gateway.httpPort}`;
    const payoutsUrl = `http://127.0.0.1:${payouts.httpPort}`;
    const deadline = Date.now() + DEMO_READY_TIMEOUT_MS;
    for (const [name, base] of [
      ['gateway', url],
      ['payouts', payoutsUrl],
    ] as const) {
      while (
        !(await fetch(`${base}/health/ready`).then(
          (response) => response.ok,
          () => false,
        ))
      ) {
        if (stopped) return;
        if (Date.now() > deadline)
          throw new Error(`${name} not ready at ${base} after ${DEMO_READY_TIMEOUT_MS / 1_000} s`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    const created = await run([
      'services/gateway/src/cli/gateway-cli.ts',
      'keys',
      'create',
      '--producer',
      'simulator-demo',
      '--event-types',
      '*',
      '--datanets',
      '*',
      '--models',
      '*',
      '--json',
    ]);
    const { key } = JSON.parse(created.trim().split('\n').pop()!) as { key: string };
    if (stopped) return;
    say(
      `demo: ${DEMO_EVENTS} simulated events (datanets, contributions, models, paid inferences) through the gateway at ${url}, then the demo producer pays in ${fund}% of their fees (TRIBUTARY_DEMO_FUNDING)`,
    );
    await run(
      [
        'services/gateway/src/cli/simulate-cli.ts',
        '--via',
        'gateway',
        '--gateway-url',
        url,
        '--count',
        String(DEMO_EVENTS),
        '--rate',
        '100',
        '--duration-max-s',
        '60',
        '--no-progress',
        '--fund',
        fund,
        '--payouts-url',
        payoutsUrl,
      ],
      // In the environment, not on the command line, where any local user's `ps` would show it.
      { GATEWAY_API_KEY: key },
    );
    say(
      `demo: npm run payouts -- close-epoch pays what is backed; npm run ledger-api -- reconcile-funding checks the treasury; the dashboard shows who waits on funding`,
    );
    say(
      `demo done: see them with npm run kafka -- cli kafka-console-consumer --bootstrap-server ${brokers}${commandConfig(kafka, '--consumer.config')} --topic tributary.inferences --from-beginning --max-messages 5 --property print.headers=true`,
    );
  };
  demo().catch((error: Error) => !stopped && say(`demo skipped (the stack is fine): ${error.message}`));
  return {
    stop() {
      stopped = true;
      current?.kill('SIGTERM');
    },
  };
}

/** Kafka's tools on the secured listener authenticate with the operator's Java client config. */
function commandConfig(kafka: RunningKafka | null, flag = '--command-config'): string {
  return kafka?.security === 'sasl_ssl'
    ? ` ${flag} ${path.relative(ROOT, credentialFiles(DEV_KAFKA_NAME).clientProperties('operator'))}`
    : '';
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

main().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ProvisionError
      ? `${formatProvisionError(error)}\n`
      : `tributary: ${redactUrlsIn(String((error as Error).stack))}\n`,
  );
  process.exit(1);
});
