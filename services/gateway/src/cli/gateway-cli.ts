// `npm run gateway -- keys create|revoke|list`: API keys for producers, straight in the gateway schema.
// The key is printed once, at creation; only its SHA-256 is stored.
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { databaseEnv, redactUrlsIn } from '@tributary/config';
import { runOwnerStep, serviceDatabaseConfig, withDataSource } from '@tributary/persistence';
import { ANY, sourceOf, type ApiKeyScope } from '../auth/api-key';
import { ApiKeyRepository } from '../auth/api-key.store';
import { dataSourceOptions, GATEWAY_SCHEMA, ownerMigrations } from '../database/data-source-options';
import { GATEWAY_EVENT_TYPES } from '../ingest/wire-format';

const LIST_ARGUMENT_CHARS_MAX = 100_000;
// The help lists only the types a key may be granted, so nobody is offered one the gateway refuses.
const EVENT_TYPES_HELP = `comma-separated event types producers publish (${GATEWAY_EVENT_TYPES.join(', ')}), or ${ANY} for any`;

function splitList(option: string) {
  return (value: string): string[] => {
    if (value.length > LIST_ARGUMENT_CHARS_MAX)
      throw new CommanderError(1, 'gateway.list', `--${option}: at most ${LIST_ARGUMENT_CHARS_MAX} characters`);
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  };
}

function withRepository<T>(use: (repository: ApiKeyRepository) => Promise<T>): Promise<T> {
  const { DATABASE_URL } = databaseEnv();
  const options = { ...dataSourceOptions(DATABASE_URL, 2), logging: ['error' as const] };
  return withDataSource(DATABASE_URL, GATEWAY_SCHEMA, options, (dataSource) => use(new ApiKeyRepository(dataSource)));
}

export function gatewayCli(): Command {
  const program = new Command('gateway').description('Tributary gateway administration').exitOverride();
  program
    .command('migrate')
    .description(
      "the owner step, for a gateway started with GATEWAY_MIGRATE=false: its schema's migrations, its role and the role's grants, with DATABASE_URL (the owner's connection)",
    )
    .action(async () => {
      const database = serviceDatabaseConfig('gateway');
      await runOwnerStep(database.takeOwnerUrl(), database, ownerMigrations);
      process.stdout.write(`gateway: schema ${database.schema} migrated; role ${database.role} may use it\n`);
    });
  const keys = program.command('keys').description('API keys: who may publish what');
  keys
    .command('create')
    .description('create a key for a producer; prints the key once')
    .requiredOption('--producer <id>', 'producer identity (recorded as ce_source urn:tributary:producer:<id>)')
    .requiredOption('--event-types <list>', EVENT_TYPES_HELP, splitList('event-types'))
    .option(
      '--datanets <list>',
      `comma-separated datanet ids it owns (its submissions, and validations and revocations of their contributions), or ${ANY}; none when omitted`,
      splitList('datanets'),
      [],
    )
    .option(
      '--models <list>',
      `comma-separated model ids it owns or serves, or ${ANY}; none when omitted`,
      splitList('models'),
      [],
    )
    .option('--json', 'print {keyId, key, producerId} as JSON')
    .action(
      async (options: {
        producer: string;
        eventTypes: string[];
        datanets: string[];
        models: string[];
        json?: boolean;
      }) => {
        const scope: ApiKeyScope = {
          producerId: options.producer,
          eventTypes: options.eventTypes,
          datanetIds: options.datanets,
          modelIds: options.models,
        };
        const created = await withRepository((repository) => repository.create(scope));
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ keyId: created.keyId, key: created.key, producerId: scope.producerId })}\n`,
          );
          return;
        }
        process.stdout.write(
          `key id:   ${created.keyId}\nproducer: ${scope.producerId} (ce_source ${sourceOf(scope.producerId)})\n`,
        );
        process.stdout.write(
          `key:      ${created.key}\n(shown once: store it now; the gateway keeps only its SHA-256)\n`,
        );
      },
    );
  keys
    .command('revoke <keyId>')
    .description('revoke a key (takes effect within GATEWAY_KEY_CACHE_TTL_MS)')
    .action(async (keyId: string) => {
      if (!/^[0-9a-f]{12}$/.test(keyId))
        throw new CommanderError(1, 'gateway.keyId', 'keyId: must be the 12 hex characters `keys create` printed');
      const revoked = await withRepository((repository) => repository.revoke(keyId));
      if (!revoked)
        throw new CommanderError(1, 'gateway.revoke', `keyId: no live key ${keyId} (unknown, or revoked already)`);
      process.stdout.write(`revoked ${keyId}\n`);
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const summaries = await withRepository((repository) => repository.list());
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summaries)}\n`);
        return;
      }
      for (const key of summaries) {
        const status = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'live';
        process.stdout.write(
          `${key.keyId}  ${key.producerId}  ${status}  types=${key.eventTypes.join(',')}  datanets=${key.datanetIds.join(',') || '-'}  models=${key.modelIds.join(',') || '-'}\n`,
        );
      }
    });
  return program;
}

if (require.main === module) {
  gatewayCli()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      if (
        error instanceof CommanderError &&
        (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
      )
        process.exit(0);
      process.stderr.write(`gateway: ${redactUrlsIn((error as Error).message)}\n`);
      process.exit(1);
    });
}
