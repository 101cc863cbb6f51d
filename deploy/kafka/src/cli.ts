// Operator entry point: `npx ts-node --transpile-only -r tsconfig-paths/register deploy/kafka/src/cli.ts <command>`.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { kafkaStatus, startKafka, stopKafka } from './broker';
import { ProvisionError, formatProvisionError } from './errors';
import { ensureKafkaInstalled } from './install';
import { runKafkaCli } from './tools';
import { nameProblem, portProblem } from './validation';
import { KAFKA_VERSION } from './version';

export const PORT_DEFAULT = 9092;
export const NAME_DEFAULT = 'dev';

const log = (line: string) => process.stderr.write(`tributary: ${line}\n`);

export function parsePortOption(value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  const problem = portProblem(port);
  if (problem) throw new InvalidArgumentError(problem.replace(`'${port}'`, `'${value}'`));
  return port;
}

export function parseNameOption(value: string): string {
  const problem = nameProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** The command tree; `run` does the work so tests can parse without side effects. */
export function buildProgram(): Command {
  const program = new Command('kafka')
    .description(`Apache Kafka ${KAFKA_VERSION} for Tributary, from Maven Central, without Docker`)
    .showHelpAfterError(false)
    // Same one-line shape as ProvisionError: `tributary: <what is wrong>`.
    .configureOutput({ outputError: (text, write) => write(`tributary: ${text.replace(/^error: /, '')}`) })
    .enablePositionalOptions()
    .exitOverride();
  program.command('install').description('resolve the Kafka jars into the cache').action(install);
  program
    .command('start')
    .description('start a single-node broker+controller on 127.0.0.1')
    .option('--port <port>', 'client port; the controller uses port + 1000', parsePortOption, PORT_DEFAULT)
    .option('--name <name>', 'broker name, selects the data dir', parseNameOption, NAME_DEFAULT)
    .option('--foreground', 'stay attached and stop the broker on Ctrl-C', false)
    .action(start);
  program
    .command('stop')
    .description('stop a broker started with `start`')
    .option('--name <name>', 'broker name', parseNameOption, NAME_DEFAULT)
    .action((opts: { name: string }) => stopKafka(opts.name));
  program.command('status').description('list brokers and whether they run').action(status);
  program
    .command('cli <tool> [args...]')
    .description('run a Kafka CLI tool, e.g. `cli kafka-topics --bootstrap-server 127.0.0.1:9092 --list`')
    .allowUnknownOption()
    .passThroughOptions()
    .helpOption(false)
    .action(passthrough);
  return program;
}

async function install(): Promise<void> {
  const libs = await ensureKafkaInstalled({ log });
  log(`Kafka ${KAFKA_VERSION} jars in ${libs}`);
}

async function start(opts: { port: number; name: string; foreground: boolean }): Promise<void> {
  const kafka = await startKafka({ port: opts.port, name: opts.name, detached: !opts.foreground, log });
  log(`Kafka '${opts.name}' ready on ${kafka.brokers} (pid ${kafka.pid}, log ${kafka.logFile})`);
  if (!opts.foreground) return;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log(`stopping Kafka '${opts.name}'`);
  await kafka.stop();
}

function status(): void {
  const brokers = kafkaStatus();
  if (brokers.length === 0) log('no brokers (none started yet)');
  for (const broker of brokers) {
    const state = broker.pid ? `running on ${broker.brokers} (pid ${broker.pid})` : 'stopped';
    process.stdout.write(`${broker.name}\t${state}\t${broker.dataDir}\n`);
  }
}

async function passthrough(tool: string, args: string[]): Promise<void> {
  const result = await runKafkaCli(tool, args, { stdio: 'inherit' });
  process.exitCode = result.code;
}

/** The edge: expected failures become one line and a non-zero exit; anything else is a bug and crashes. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return; // commander already printed the message
    }
    if (!(error instanceof ProvisionError)) throw error;
    process.stderr.write(`${formatProvisionError(error)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main(process.argv);
