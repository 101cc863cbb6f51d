import { Command, CommanderError } from 'commander';
import { KEY_ID } from '@tributary/access';
import { databaseEnv, redactUrlsIn } from '@tributary/config';
import { issueReadCredential, listReadCredentials, revokeReadCredential } from './database/credentials';
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
  const credentials = program
    .command('credentials')
    .description('read credentials for the ledger API and the payouts statements: who may read what');
  credentials
    .command('create')
    .description('issue a credential; prints it once (only its SHA-256 is stored)')
    .requiredOption(
      '--scope <scope>',
      'operator, analyst or participant:<accountId> (e.g. participant:contributor:alice); repeat for several',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--label <text>', 'who or what it is for, shown by list', '')
    .option('--json', 'print {credentialId, credential, scopes} as JSON')
    .action(async (options: { scope: string[]; label: string; json?: boolean }) => {
      const created = await issueReadCredential(databaseEnv().DATABASE_URL, options.scope, options.label);
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ credentialId: created.keyId, credential: created.key, scopes: options.scope })}\n`,
        );
        return;
      }
      process.stdout.write(`credential id: ${created.keyId}\nscopes:        ${options.scope.join(' ')}\n`);
      process.stdout.write(
        `credential:    ${created.key}\n(shown once: store it now; send it as "Authorization: Bearer <credential>")\n`,
      );
    });
  credentials
    .command('revoke <credentialId>')
    .description('revoke a credential (refused everywhere within ACCESS_CACHE_TTL_MS)')
    .action(async (credentialId: string) => {
      if (!KEY_ID.test(credentialId))
        throw new CommanderError(
          1,
          'ledger-api.credentialId',
          'credentialId: must be the 12 hex characters `credentials create` printed',
        );
      if (!(await revokeReadCredential(databaseEnv().DATABASE_URL, credentialId)))
        throw new CommanderError(
          1,
          'ledger-api.revoke',
          `credentialId: no live credential ${credentialId} (unknown, or revoked already)`,
        );
      process.stdout.write(`revoked ${credentialId}\n`);
    });
  credentials
    .command('list')
    .description('list credentials (never the secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const summaries = await listReadCredentials(databaseEnv().DATABASE_URL);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summaries)}\n`);
        return;
      }
      for (const credential of summaries) {
        const status = credential.revokedAt ? `revoked ${credential.revokedAt.toISOString()}` : 'live';
        process.stdout.write(
          `${credential.credentialId}  ${status}  ${credential.scopes.join(' ')}${credential.label ? `  (${credential.label})` : ''}\n`,
        );
      }
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
