// Runs a benchmark script against a Kafka broker of its own, so `npm run bench:*` needs nothing running
// first: when KAFKA_BROKERS is not set, a KRaft broker is started on a free port with the provisioner,
// the script runs with KAFKA_BROKERS pointing at it, and the broker is stopped afterwards.
//   ts-node bench/with-broker.ts bench/attribution/run.ts
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { formatProvisionError, ProvisionError, startKafka } from '@tributary/kafka-provisioner';

const ROOT = path.resolve(__dirname, '..');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // The provisioner puts the controller at port + 1000: keep both in range.
  return port > 64_000 ? freePort() : port;
}

function run(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', path.resolve(ROOT, script)], {
      cwd: ROOT,
      env: { ...env, TS_NODE_TRANSPILE_ONLY: 'true' },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const script = process.argv[2];
  if (!script) throw new RangeError('usage: with-broker.ts <benchmark script>');
  if (process.env.KAFKA_BROKERS) return run(script, process.env);
  const kafka = await startKafka({ port: await freePort(), name: `bench-${path.basename(path.dirname(script))}`, log: (line) => process.stdout.write(`${line}\n`) });
  try {
    return await run(script, { ...process.env, KAFKA_BROKERS: kafka.brokers });
  } finally {
    await kafka.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(error instanceof ProvisionError ? `${formatProvisionError(error)}\n` : `bench: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
