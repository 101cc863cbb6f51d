import 'reflect-metadata';
import { installKafkaWireFastPaths } from '@tributary/kafka-wire';
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { Client } from 'pg';
import { databaseEnv, kafkaEnv, redactUrlsIn } from '@tributary/config';
import { CONSUMER_GROUPS, TOPICS } from '@tributary/contracts';
import { runOwnerStep, serviceDatabaseConfig } from '@tributary/persistence';
import { LEDGER_SCHEMA, ownerMigrations } from './database/data-source-options';
import { auditAccount, formatStatement } from './operations/audit';
import { assertSchemaName, readDigest, verifyLedger } from './operations/ledger-queries';
import { rebuild, swap, type RebuildOptions } from './operations/rebuild';
import { PROGRESS_INTERVAL_MS_DEFAULT, STALL_TIMEOUT_MS_DEFAULT } from './operations/rebuild-engine';

/** Parses a bounded integer flag; commander reports the error with the flag's name. */
const boundedInt = (flag: string, min: number, max: number) => (value: string) => {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max)
    throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}`);
  return parsed;
};
const schemaName = (flag: string) => (value: string) => {
  try {
    return assertSchemaName(value, flag);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

async function withClient<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseEnv().DATABASE_URL, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function rebuildOptions(
  schema: string,
  flags: { batchSize: number; concurrency: number; workers?: number; stallTimeoutMs: number },
  progress?: SingleBar,
): RebuildOptions {
  const kafka = kafkaEnv();
  return {
    databaseUrl: databaseEnv().DATABASE_URL,
    brokers: kafka.KAFKA_BROKERS,
    clientId: kafka.KAFKA_CLIENT_ID,
    groupId: process.env.LEDGER_PROJECTOR_GROUP_ID ?? CONSUMER_GROUPS.ledgerProjector,
    topics: [TOPICS.attributions.name, TOPICS.payouts.name, TOPICS.funding.name],
    schema,
    batchSizeMax: flags.batchSize,
    partitionsConcurrently: flags.concurrency,
    workers: flags.workers ?? 1,
    stallTimeoutMs: flags.stallTimeoutMs,
    onProgress: (applied, total) => (total > 0 ? progress?.start(total, 0) : progress?.update(applied)),
  };
}

const defaultRebuildSchema = () => `ledger_rebuild_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;

export function ledgerCli(): Command {
  const program = new Command('ledger')
    .description('Operator CLI of the ledger projector: verify, digest, rebuild, swap, audit.')
    .exitOverride();
  program
    .command('migrate')
    .description(
      "the owner step, for a projector started with LEDGER_PROJECTOR_MIGRATE=false: the ledger's migrations, the projector's role and its grants, with DATABASE_URL (the owner's connection)",
    )
    .action(async () => {
      const database = serviceDatabaseConfig('ledger-projector');
      await runOwnerStep(database.takeOwnerUrl(), database, ownerMigrations);
      console.log(`ledger: schema ${database.schema} migrated; role ${database.role} may use it`);
    });
  program
    .command('digest')
    .description('print the ledger digest (balances and chain heads)')
    .option('--schema <name>', 'schema to read', schemaName('--schema'), LEDGER_SCHEMA)
    .action(async (flags: { schema: string }) =>
      console.log(await withClient((client) => readDigest(client, flags.schema))),
    );
  program
    .command('verify')
    .description('recompute every hash chain from the table and report the first row that does not match')
    .option('--schema <name>', 'schema to verify', schemaName('--schema'), LEDGER_SCHEMA)
    .action(async (flags: { schema: string }) => {
      const report = await withClient((client) => verifyLedger(client, flags.schema));
      for (const problem of report.problems)
        console.log(
          `MISMATCH ${problem.sourceTopic}[${problem.sourcePartition}] row ${problem.rowNumber} chain_seq ${problem.chainSeq}: ${problem.reason}`,
        );
      console.log(
        report.ok ? `ok: ${report.entriesChecked} entries verified` : `FAILED: ${report.problems.length} problem(s)`,
      );
      if (!report.ok) process.exitCode = 2;
    });
  program
    .command('rebuild')
    .description('project the log from offset 0 into a new schema beside the live one, then compare digests')
    .option('--schema <name>', 'schema to build into', schemaName('--schema'), defaultRebuildSchema())
    .option('--batch-size <records>', 'records per database transaction', boundedInt('--batch-size', 1, 50_000), 5_000)
    .option('--concurrency <partitions>', 'partitions applied at once', boundedInt('--concurrency', 1, 64), 3)
    .option(
      '--workers <processes>',
      'processes applying records, each owning a share of the partitions',
      boundedInt('--workers', 1, 16),
      2,
    )
    .option(
      '--to <where>',
      '"live": up to the live projection, to compare digests; "end": the whole log',
      (value: string) => {
        if (value !== 'live' && value !== 'end') throw new InvalidArgumentError('--to must be "live" or "end"');
        return value;
      },
      'live',
    )
    .option(
      '--progress-interval-ms <ms>',
      'how often a progress line is printed when stderr is not a terminal',
      boundedInt('--progress-interval-ms', 100, 600_000),
      PROGRESS_INTERVAL_MS_DEFAULT,
    )
    .option(
      '--stall-timeout-ms <ms>',
      'stop, naming the partitions behind, when none moved for this long',
      boundedInt('--stall-timeout-ms', 1_000, 86_400_000),
      STALL_TIMEOUT_MS_DEFAULT,
    )
    .action(
      async (flags: {
        schema: string;
        batchSize: number;
        concurrency: number;
        workers: number;
        to: 'live' | 'end';
        progressIntervalMs: number;
        stallTimeoutMs: number;
      }) => {
        // A terminal gets the redrawn bar; a pipe or a log gets a plain line every interval (the bar prints nothing there).
        const terminal = process.stderr.isTTY === true;
        const bar = new SingleBar(
          { format: 'rebuild |{bar}| {value}/{total} events | {speed} events/s | ETA {eta}s', hideCursor: true },
          Presets.shades_classic,
        );
        const startedMs = Date.now();
        const timer = terminal
          ? setInterval(
              () =>
                bar.update({
                  speed: Math.round(
                    ((bar.getProgress() * bar.getTotal()) / Math.max(1, Date.now() - startedMs)) * 1000,
                  ),
                }),
              500,
            )
          : undefined;
        const lines = terminal
          ? {}
          : {
              progressLine: (line: string) => process.stderr.write(`${line}\n`),
              progressIntervalMs: flags.progressIntervalMs,
            };
        try {
          const result = await rebuild({
            ...rebuildOptions(flags.schema, flags, terminal ? bar : undefined),
            ...lines,
            to: flags.to,
          });
          bar.stop();
          console.log(JSON.stringify(result, null, 2));
          if (!result.matches) process.exitCode = 3;
        } finally {
          clearInterval(timer);
          bar.stop();
        }
      },
    );
  program
    .command('swap')
    .description('catch a rebuilt schema up with the live one and promote it to "ledger" atomically (schema rename)')
    .requiredOption('--schema <name>', 'the rebuilt schema to promote', schemaName('--schema'))
    .option('--batch-size <records>', 'records per database transaction', boundedInt('--batch-size', 1, 50_000), 5_000)
    .option('--concurrency <partitions>', 'partitions applied at once', boundedInt('--concurrency', 1, 64), 3)
    .option(
      '--lock-timeout-ms <ms>',
      'longest wait for the live offsets lock',
      boundedInt('--lock-timeout-ms', 100, 600_000),
      30_000,
    )
    .option(
      '--stall-timeout-ms <ms>',
      'stop, naming the partitions behind, when none moved for this long',
      boundedInt('--stall-timeout-ms', 1_000, 86_400_000),
      STALL_TIMEOUT_MS_DEFAULT,
    )
    .action(
      async (flags: {
        schema: string;
        batchSize: number;
        concurrency: number;
        lockTimeoutMs: number;
        stallTimeoutMs: number;
      }) => {
        console.log(JSON.stringify(await swap(rebuildOptions(flags.schema, flags), flags.lockTimeoutMs), null, 2));
      },
    );
  program
    .command('audit')
    .description('the statement of an account: every entry traced to its inference or payout and contributions')
    .argument('<account>', 'account id, e.g. contributor:ana')
    .option('--schema <name>', 'schema to read', schemaName('--schema'), LEDGER_SCHEMA)
    .option('--limit <entries>', 'entries listed (totals always cover all)', boundedInt('--limit', 1, 100_000), 1_000)
    .option('--json', 'print JSON instead of text', false)
    .action(async (account: string, flags: { schema: string; limit: number; json: boolean }) => {
      const statement = await withClient((client) => auditAccount(client, flags.schema, account, flags.limit));
      console.log(flags.json ? JSON.stringify(statement, null, 2) : formatStatement(statement));
      if (statement.totals.some((total) => !total.matches)) process.exitCode = 2;
    });
  return program;
}

if (require.main === module) {
  // The rebuild reads the whole log: kafkajs's wire fast paths (libs/kafka-wire) first.
  installKafkaWireFastPaths();
  ledgerCli()
    .parseAsync(process.argv)
    .catch((error: Error & { code?: string; exitCode?: number }) => {
      if (error.code?.startsWith('commander.')) process.exit(error.exitCode ?? 1);
      console.error(`ledger: ${redactUrlsIn(error.message)}`);
      process.exit(1);
    });
}
