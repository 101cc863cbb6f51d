import { Command } from 'commander';
import { databaseEnv, redactUrlsIn } from '@tributary/config';
import { ledgerApiConfig } from './ledger-api.config';
import { regrant, runOwnerStep } from './database/owner-step';
import { ReaderPool } from './database/reader-pool';
import { FundingQueries } from './ledger/funding-queries';
import { fundingOverview } from './ledger/funding-views';

/** The owner-side steps, for deployments that start the API with LEDGER_API_MIGRATE=false. */
export function ledgerApiCli(): Command {
  const program = new Command('ledger-api').description(
    'Owner steps of the ledger query API; they use DATABASE_URL (an owner or superuser connection).',
  );
  const options = () => {
    const config = ledgerApiConfig();
    return {
      ownerDatabaseUrl: config.database.takeOwnerUrl(),
      readerRole: config.database.role,
      readerPassword: config.database.password,
    };
  };
  program
    .command('migrate')
    .description(
      'create the read-only role, its grants on the ledger schema and the event trigger that keeps them across a swap',
    )
    .action(async () => {
      await runOwnerStep(options());
      console.log('ledger-api: reader role and grants are in place');
    });
  program
    .command('grant')
    .description(
      'grant the reader SELECT on the live ledger again (after a swap, where no event trigger could be created)',
    )
    .action(async () => {
      await regrant(options());
      console.log('ledger-api: granted');
    });
  program
    .command('reconcile-funding')
    .description(
      'per asset: net deposits + debt = settled + in flight + backed unpaid + treasury remainder + prepaid, and the payout cash equals the ledger accounts; exit code 2 when anything does not hold',
    )
    .action(async () => {
      const config = ledgerApiConfig();
      // Read-only sessions on the owner connection: the command needs no reader role to exist.
      const pool = new ReaderPool({
        ...config,
        readerDatabaseUrl: databaseEnv().DATABASE_URL,
        LEDGER_API_DB_POOL_MAX: 1,
      });
      try {
        const { report, cash } = await new FundingQueries(pool).state();
        const { reconciliation } = fundingOverview(report, cash);
        for (const line of reconciliation.lines) {
          console.log(
            `${line.asset}: net deposits ${line.netDepositsMinor} + debt ${line.debtMinor} = settled ${line.settledMinor} + in flight ${line.inFlightMinor} + backed unpaid ${line.backedUnpaidMinor} + treasury remainder ${line.treasuryRemainderMinor} + prepaid ${line.prepaidMinor}: ${line.holds ? 'holds' : 'DOES NOT HOLD'}`,
          );
        }
        for (const problem of reconciliation.problems) console.log(`PROBLEM ${problem}`);
        console.log(
          reconciliation.holds
            ? `ok: ${reconciliation.lines.length} asset(s) reconciled`
            : `FAILED: ${reconciliation.problems.length} problem(s)`,
        );
        if (!reconciliation.holds) process.exitCode = 2;
      } finally {
        await pool.onApplicationShutdown();
      }
    });
  return program;
}

if (require.main === module) {
  ledgerApiCli()
    .parseAsync(process.argv)
    .catch((error: Error) => {
      process.stderr.write(`ledger-api: ${redactUrlsIn(error.message)}\n`);
      process.exit(1);
    });
}
