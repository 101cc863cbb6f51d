// Operator entry point: `npx ts-node --transpile-only -r tsconfig-paths/register deploy/kafka/src/cli.ts <command>`.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kafkaStatus, startKafka, stopKafka } from './broker';
import { formatAclRow } from './acls';
import { credentialFiles } from './credentials';
import { addDlqCommands } from './dlq-cli';
import {
  addAnalytics,
  addProducer,
  applyServiceAcls,
  listPrincipals,
  revokePrincipal,
  rotatePassword,
} from './principals';
import { ProvisionError, formatProvisionError } from './errors';
import { ensureKafkaInstalled } from './install';
import { addOffsetCommands } from './offsets-cli';
import { CLUSTER_SIZES } from './config';
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

export function parseBrokersOption(value: string): number {
  const brokers = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(CLUSTER_SIZES as readonly number[]).includes(brokers)) {
    throw new InvalidArgumentError(
      `--brokers must be one of ${CLUSTER_SIZES.join(', ')} (a KRaft quorum wants an odd number of voters), got '${value}'`,
    );
  }
  return brokers;
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
    .description('start a single-node broker+controller, or a cluster of them, on 127.0.0.1')
    .option(
      '--port <port>',
      'client port; the controller uses port + 1000, the inter-broker listener port + 2000',
      parsePortOption,
      PORT_DEFAULT,
    )
    .option('--name <name>', 'broker name, selects the data dir', parseNameOption, NAME_DEFAULT)
    .option(
      '--brokers <count>',
      'nodes (broker+controller each); node k takes the ports of --port + k - 1',
      parseBrokersOption,
      1,
    )
    .option('--foreground', 'stay attached and stop the broker on Ctrl-C', false)
    .action(start);
  program
    .command('stop')
    .description('stop a broker or cluster started with `start`')
    .option('--name <name>', 'broker name', parseNameOption, NAME_DEFAULT)
    .action((opts: { name: string }) => stopKafka(opts.name));
  program.command('status').description('list brokers and whether they run').action(status);
  addPrincipalCommands(program);
  addDlqCommands(program);
  addOffsetCommands(program);
  program
    .command('cli <tool> [args...]')
    .description('run a Kafka CLI tool, e.g. `cli kafka-topics --bootstrap-server 127.0.0.1:9092 --list`')
    .allowUnknownOption()
    .passThroughOptions()
    .helpOption(false)
    .action(passthrough);
  return program;
}

/** The operator's commands on principals and ACLs of a running secured broker. */
function addPrincipalCommands(program: Command): void {
  const name = ['--name <name>', 'broker name', parseNameOption, NAME_DEFAULT] as const;
  const prefix = [
    '--topic-prefix <prefix>',
    'topic prefix of the environment (TRIBUTARY_TOPIC_PREFIX)',
    parseTopicPrefix,
    '',
  ] as const;
  const passwordFile = [
    '--password-file <file>',
    'write the new password to this file (mode 600) instead of printing it',
  ] as const;
  const principals = program
    .command('principals')
    .description('Kafka principals: who may connect, and what each may do');
  principals
    .command('list')
    .description('every principal with a credential, and its ACLs')
    .option(...name)
    .action(async (opts: { name: string }) => {
      for (const { principal, acls } of await listPrincipals(opts.name)) {
        process.stdout.write(
          `User:${principal}${acls.length === 0 ? (principal === 'operator' ? '  (super user)' : '  (no ACLs)') : ''}\n`,
        );
        for (const row of acls) process.stdout.write(`  ${formatAclRow(row)}\n`);
      }
    });
  principals
    .command('add-producer <principal>')
    .description('a direct Kafka producer that may publish only the given event types')
    .requiredOption('--events <types>', 'comma-separated event types, e.g. InferenceCompleted', parseList)
    .option(...name)
    .option(...prefix)
    .option(...passwordFile)
    .action(
      async (
        principal: string,
        opts: { events: string[]; name: string; topicPrefix: string; passwordFile?: string },
      ) => {
        const issued = await addProducer(opts.name, principal, opts.events, opts.topicPrefix);
        handOver(issued.principal, issued.password.reveal(), opts.passwordFile);
      },
    );
  principals
    .command('add-analytics <principal>')
    .description(`an analytics reader: reads every event topic, consumer groups under analytics.<principal>.`)
    .option(...name)
    .option(...prefix)
    .option(...passwordFile)
    .action(async (principal: string, opts: { name: string; topicPrefix: string; passwordFile?: string }) => {
      const issued = await addAnalytics(opts.name, principal, opts.topicPrefix);
      handOver(issued.principal, issued.password.reveal(), opts.passwordFile);
    });
  principals
    .command('rotate <principal>')
    .description('a new password, effective for new connections at once')
    .option(...name)
    .option(...passwordFile)
    .action(async (principal: string, opts: { name: string; passwordFile?: string }) => {
      handOver(principal, (await rotatePassword(opts.name, principal)).reveal(), opts.passwordFile);
    });
  principals
    .command('revoke <principal>')
    .description('delete the credential and every ACL of a principal')
    .option(...name)
    .action(async (principal: string, opts: { name: string }) => {
      const { aclsDeleted } = await revokePrincipal(opts.name, principal);
      log(`revoked ${principal}: credential deleted, ${aclsDeleted} ACLs deleted`);
    });
  program
    .command('acls')
    .description("render the services' ACLs from the access catalog to the broker (idempotent)")
    .option(...name)
    .option(...prefix)
    .option('--prune', 'also delete ACLs the services hold beyond the catalog', false)
    .action(async (opts: { name: string; topicPrefix: string; prune: boolean }) => {
      const { created, extra } = await applyServiceAcls(opts.name, opts.topicPrefix, { prune: opts.prune });
      log(
        `ACLs: ${created.length} created, ${extra.length} beyond the catalog${opts.prune ? ' deleted' : ' (kept; --prune deletes them)'}`,
      );
    });
}

/** A password leaves this process once: on stdout (nothing else goes there), or into a file of the operator's. */
function handOver(principal: string, password: string, file: string | undefined): void {
  if (file) {
    fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
    log(`password of ${principal} written to ${file}; it is not shown again`);
    return;
  }
  log(`password of ${principal} (shown once; hand it over now):`);
  process.stdout.write(`${password}\n`);
}

function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('must list at least one item, comma separated');
  return items;
}

function parseTopicPrefix(value: string): string {
  if (!/^[A-Za-z0-9._-]{0,100}$/.test(value))
    throw new InvalidArgumentError('must be at most 100 letters, digits, ".", "_" or "-"');
  return value;
}

async function install(): Promise<void> {
  const libs = await ensureKafkaInstalled({ log });
  log(`Kafka ${KAFKA_VERSION} jars in ${libs}`);
}

async function start(opts: { port: number; name: string; foreground: boolean; brokers: number }): Promise<void> {
  const kafka = await startKafka({
    port: opts.port,
    name: opts.name,
    detached: !opts.foreground,
    log,
    brokers: opts.brokers,
  });
  if (opts.brokers === 1)
    log(`Kafka '${opts.name}' ready on ${kafka.brokers} (pid ${kafka.pid}, log ${kafka.logFile})`);
  else
    log(
      `Kafka '${opts.name}' ready: ${opts.brokers} nodes on ${kafka.brokers}, pids ${kafka.nodes.map((node) => node.pid).join(', ')}, logs ${path.dirname(path.dirname(kafka.logFile))}/node-*/broker.log`,
    );
  // Paths only: the password stays in its file.
  log(
    `operator's client env: ${Object.entries(kafka.clientEnv('operator'))
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`,
  );
  if (kafka.security === 'plaintext') {
    log(
      'WARNING: KAFKA_SECURITY=plaintext: no authentication, no ACLs; anyone who reaches the port may write any topic',
    );
  } else {
    const { created } = await applyServiceAcls(opts.name, process.env.TRIBUTARY_TOPIC_PREFIX ?? '');
    if (created.length > 0) log(`created ${created.length} ACLs from the access catalog`);
    log(
      `operator client config for Kafka's tools: --command-config ${credentialFiles(opts.name).clientProperties('operator')}`,
    );
  }
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
    if (broker.nodes) {
      const running = broker.nodes.filter((node) => node.pid !== undefined).length;
      const state =
        running === 0 ? 'stopped' : `running ${running} of ${broker.nodes.length} nodes on ${broker.brokers}`;
      process.stdout.write(`${broker.name}\t${state}\t${broker.dataDir}\n`);
      for (const node of broker.nodes) {
        const nodeState = node.pid
          ? `running on ${node.brokers} (pid ${node.pid}, controller ${node.controller})`
          : `stopped (${node.brokers})`;
        process.stdout.write(`  node ${node.nodeId}\t${nodeState}\n`);
      }
      continue;
    }
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
