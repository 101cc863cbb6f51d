// Operator entry point: `npm run registry -- <command>`.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LOCAL_DATABASE_URL } from '@tributary/config';
import { ProvisionError, formatProvisionError } from '@tributary/kafka-provisioner';
import { ensureRegistryInstalled } from './install';
import { registryNameProblem, registryPortProblem, registryStatus, startRegistry, stopRegistry } from './registry';
import { registerEventSchemas } from '@tributary/schema-registry';
import { REGISTRY_VERSION } from './version';

export const REGISTRY_PORT_DEFAULT = 8081;
export const REGISTRY_NAME_DEFAULT = 'dev';

const log = (line: string) => process.stderr.write(`tributary: ${line}\n`);

export function parsePortOption(value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  const problem = registryPortProblem(port);
  if (problem) throw new InvalidArgumentError(problem.replace(`'${port}'`, `'${value}'`));
  return port;
}

export function parseNameOption(value: string): string {
  const problem = registryNameProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

export function buildProgram(): Command {
  const program = new Command('registry')
    .description(`Apicurio Registry ${REGISTRY_VERSION} for Tributary, from Maven Central, with PostgreSQL storage`)
    .showHelpAfterError(false)
    .configureOutput({ outputError: (text, write) => write(`tributary: ${text.replace(/^error: /, '')}`) })
    .exitOverride();
  program
    .command('install')
    .description('resolve and unpack the registry into the cache')
    .action(async () => {
      log(`Apicurio Registry ${REGISTRY_VERSION} in ${await ensureRegistryInstalled({ log })}`);
    });
  program
    .command('start')
    .description("start the registry on 127.0.0.1 (detached) and register the project's event schemas")
    .option(
      '--port <port>',
      'HTTP port; the management interface takes port + 1',
      parsePortOption,
      REGISTRY_PORT_DEFAULT,
    )
    .option('--name <name>', 'instance name, selects the data dir', parseNameOption, REGISTRY_NAME_DEFAULT)
    .option('--no-register', 'start only; do not register the schemas')
    .action(async (opts: { port: number; name: string; register: boolean }) => {
      const registry = await startRegistry({
        name: opts.name,
        port: opts.port,
        ownerDatabaseUrl: process.env.DATABASE_URL ?? LOCAL_DATABASE_URL,
        detached: true,
        log,
      });
      log(
        `registry '${opts.name}' ready: SCHEMA_REGISTRY_URL=${registry.ccompatUrl} (pid ${registry.pid}, log ${registry.logFile})`,
      );
      if (!opts.register) return;
      const ids = await registerEventSchemas(registry.ccompatUrl);
      log(`${ids.size} event schema versions registered (compatibility FULL per subject)`);
    });
  program
    .command('stop')
    .description('stop a registry started with `start`')
    .option('--name <name>', 'instance name', parseNameOption, REGISTRY_NAME_DEFAULT)
    .action((opts: { name: string }) => stopRegistry(opts.name));
  program
    .command('status')
    .description('list registries and whether they run')
    .action(() => {
      const registries = registryStatus();
      if (registries.length === 0) log('no registries (none started yet)');
      for (const registry of registries) {
        const state = registry.pid ? `running at ${registry.url} (pid ${registry.pid})` : 'stopped';
        process.stdout.write(`${registry.name}\t${state}\tdatabase ${registry.database ?? '?'}\t${registry.logFile}\n`);
      }
    });
  return program;
}

/** The edge: expected failures become one line and a non-zero exit; anything else is a bug and crashes. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (!(error instanceof ProvisionError)) throw error;
    process.stderr.write(`${formatProvisionError(error)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main(process.argv);
