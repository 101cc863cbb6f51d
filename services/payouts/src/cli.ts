import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import type { DataSource } from 'typeorm';
import { ConfigError, databaseEnv, kafkaEnv, redactUrlsIn } from '@tributary/config';
import { topicPrefix } from '@tributary/contracts';
import { ensureTopicCatalog, installWireFraming } from '@tributary/messaging';
import { runOwnerStep, serviceDatabaseConfig, withDataSource } from '@tributary/persistence';
import { dataSourceOptions, ownerMigrations, PAYOUTS_SCHEMA } from './database/data-source-options';
import { epochNumber } from './http/payouts.controller';
import { payoutsConfig, retryPolicyOf, thresholdsOf } from './payouts.config';
import { parseResolution } from '@tributary/payouts';
import { closeEpoch, EpochOutOfOrderError, findEpoch } from './saga/epoch-closer';
import { parsePayoutId, PayoutNotFoundError, ResolutionConflictError, resolveByOperator } from './saga/reconciliation';
import { SagaStore } from './saga/saga-store';
import { connectPublisher } from './saga/payout-publisher';
import { FundingInputError, parseChargeback, parseDeposit } from './funding/funding-input';
import { publishFunding } from './funding/funding';
import { parseAccountIdInput, parseLimit, statementOf } from './saga/statement';

/**
 * Operator and participant commands of the payouts service:
 *   migrate                            the owner step: migrations, the service's role and its grants (DATABASE_URL: the owner)
 *   close-epoch [--epoch N]            closes the next epoch (or N, which must be the next or already closed)
 *   epoch <N>                          what an epoch closed: its payouts and the ledger position it read
 *   statement <accountId> [--limit N]  an account's payouts with status and epoch
 *   resolve <payoutId> --settled <reference> | --refused <reason> --by <who> --evidence <text> [--at <ISO time>]
 *                                      records the rail's definite answer for a payout in NEEDS_RECONCILIATION
 *   deposit --producer <source> --asset <A> --amount <minor> --reference <rail ref> [--event-id <id>] [--at <ISO time>]
 *                                      the treasury received money from a producer: FundsDeposited on tributary.funding
 *   chargeback --producer <source> --asset <A> --amount <minor> --reference <rail ref> --reason <text>
 *              [--reverses <eventId>] [--event-id <id>] [--at <ISO time>]
 *                                      a producer's money was taken back: FundsReversed on tributary.funding
 * Closing only plans payouts in PostgreSQL; a running payouts service requests and settles them. The
 * funding commands need Kafka only (as the payouts principal), no database.
 */
function withDatabase<T>(use: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const { DATABASE_URL } = databaseEnv();
  return withDataSource(DATABASE_URL, PAYOUTS_SCHEMA, dataSourceOptions(DATABASE_URL, 2), use);
}

const argument =
  <T>(parse: (value: string) => T) =>
  (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

const program = new Command('payouts').description('Tributary payouts service commands').exitOverride();

program
  .command('migrate')
  .description(
    "the owner step, for a service started with PAYOUTS_MIGRATE=false: its schema's migrations, its role and the role's grants (its own schema, reads of the ledger), with DATABASE_URL (the owner's connection)",
  )
  .action(async () => {
    const database = serviceDatabaseConfig('payouts');
    await runOwnerStep(database.takeOwnerUrl(), database, ownerMigrations);
    process.stdout.write(`payouts: schema ${database.schema} migrated; role ${database.role} may use it\n`);
  });

program
  .command('close-epoch')
  .option('--epoch <N>', 'the epoch to close (default: the next one)', argument(epochNumber))
  .description('close an epoch: plan one payout per account at or above its threshold, from the ledger as it stands')
  .action(async (options: { epoch?: number }) => {
    const config = payoutsConfig();
    const closed = await withDatabase((dataSource) =>
      closeEpoch(
        dataSource,
        { ledgerSchema: config.PAYOUTS_LEDGER_SCHEMA, thresholds: thresholdsOf(config), rail: config.PAYOUTS_RAIL },
        options.epoch,
        'operator:cli',
      ),
    );
    print(closed);
  });

program
  .command('epoch')
  .argument('<N>', 'a closed epoch', argument(epochNumber))
  .description('what a closed epoch planned, and the ledger checkpoints its balances reflect')
  .action(async (epoch: number) => {
    const found = await withDatabase((dataSource) => findEpoch(dataSource, epoch));
    if (!found) {
      process.stderr.write(`payouts: epoch: ${epoch} is not closed\n`);
      process.exitCode = 2;
      return;
    }
    print(found);
  });

program
  .command('statement')
  .argument('<accountId>', 'e.g. contributor:alice', argument(parseAccountIdInput))
  .option('--limit <N>', 'lines to print, 1 to 1000', argument(parseLimit))
  .description("an account's payouts, newest epoch first, with status, rail and reference")
  .action(async (accountId: string, options: { limit?: number }) => {
    const payouts = await withDatabase((dataSource) => statementOf(dataSource, accountId, options.limit ?? 100));
    print({ accountId, payouts });
  });

program
  .command('resolve')
  .argument('<payoutId>', 'a payout in NEEDS_RECONCILIATION, as statements show it', argument(parsePayoutId))
  .option('--settled <reference>', "the rail paid it: the rail's reference for the payment")
  .option('--refused <reason>', 'the rail did not pay it and never will under this idempotency key: its reason')
  .requiredOption('--by <who>', 'who checked the rail (recorded with the payout)')
  .requiredOption('--evidence <text>', 'what shows it: a ticket, a statement line (recorded with the payout)')
  .option('--at <time>', 'when the rail answered, ISO 8601 (default: now)')
  .description("record the rail's definite answer for a payout waiting for reconciliation; it moves once")
  .action(
    async (
      payoutId: string,
      options: { settled?: string; refused?: string; by: string; evidence: string; at?: string },
    ) => {
      if ((options.settled === undefined) === (options.refused === undefined))
        throw new RangeError('outcome: give exactly one of --settled <reference> or --refused <reason>');
      const resolution = parseResolution(
        {
          outcome: options.settled !== undefined ? 'settled' : 'refused',
          ...(options.settled !== undefined ? { reference: options.settled } : { reason: options.refused }),
          by: options.by,
          evidence: options.evidence,
          ...(options.at ? { at: options.at } : {}),
        },
        Date.now(),
      );
      const config = payoutsConfig();
      print(
        await withDatabase((dataSource) =>
          resolveByOperator(new SagaStore(dataSource), payoutId, resolution, retryPolicyOf(config)),
        ),
      );
    },
  );

interface FundingOptions {
  producer?: string;
  asset?: string;
  amount?: string;
  reference?: string;
  eventId?: string;
  at?: string;
  reason?: string;
  reverses?: string;
}

/** The options as the funding input names its fields, so an error names the field as HTTP does too (amountMinor, railReference). */
const fundingFields = (options: FundingOptions) => ({
  ...(options.eventId !== undefined ? { eventId: options.eventId } : {}),
  producer: options.producer,
  asset: options.asset,
  amountMinor: options.amount,
  railReference: options.reference,
  ...(options.at !== undefined ? { occurredAt: options.at } : {}),
});

/** Publishes one funding event as the payouts principal, and prints where it landed. */
async function publishWithKafka(
  publish: (publisher: Awaited<ReturnType<typeof connectPublisher>>) => Promise<unknown>,
): Promise<void> {
  await ensureTopicCatalog('payouts');
  // Framed with the registry's ids like everything the service writes (SCHEMA_REGISTRY_URL; raw without).
  await installWireFraming('payouts');
  const publisher = await connectPublisher(kafkaEnv(process.env, 'payouts'), topicPrefix());
  try {
    print(await publish(publisher));
  } finally {
    await publisher.close();
  }
}

const fundingOptions = (command: Command) =>
  command
    .requiredOption(
      '--producer <source>',
      "the producer's CloudEvents source as its inferences carry it, e.g. urn:tributary:producer:acme",
    )
    .requiredOption('--asset <A>', 'asset code, e.g. USDC (1 to 32 characters)')
    .requiredOption('--amount <minor>', 'amount in minor units, a whole number from 1 to 9223372036854775807')
    .requiredOption('--reference <rail ref>', "the rail's reference for the money (1 to 256 characters)")
    .option('--event-id <id>', 'the event id (default: a new UUID); pass the same one to repeat a command safely')
    .option('--at <time>', 'when the rail recorded it, ISO 8601 (default: now)');

fundingOptions(program.command('deposit'))
  .description('the treasury received money from an inference producer: publish FundsDeposited on tributary.funding')
  .action(async (options: FundingOptions) => {
    const data = parseDeposit(fundingFields(options));
    await publishWithKafka((publisher) => publishFunding(publisher, 'FundsDeposited', data));
  });

fundingOptions(program.command('chargeback'))
  .requiredOption('--reason <text>', 'why the money was taken back (1 to 4096 characters)')
  .option('--reverses <eventId>', 'the eventId of the FundsDeposited it takes back, when known')
  .description("a producer's money was taken back (a chargeback): publish FundsReversed on tributary.funding")
  .action(async (options: FundingOptions) => {
    const data = parseChargeback({
      ...fundingFields(options),
      reason: options.reason,
      ...(options.reverses !== undefined ? { reversesEventId: options.reverses } : {}),
    });
    await publishWithKafka((publisher) => publishFunding(publisher, 'FundsReversed', data));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
  if (code?.startsWith('commander.')) {
    process.exitCode = 2;
    return;
  }
  const known =
    error instanceof ConfigError ||
    error instanceof FundingInputError ||
    error instanceof EpochOutOfOrderError ||
    error instanceof RangeError ||
    error instanceof PayoutNotFoundError ||
    error instanceof ResolutionConflictError;
  process.stderr.write(`payouts: ${redactUrlsIn(known ? error.message : ((error as Error).stack ?? String(error)))}\n`);
  process.exitCode = known ? 2 : 1;
});
