import { Command } from 'commander';
import { ledgerApiConfig } from './ledger-api.config';
import { regrant, runOwnerStep } from './database/owner-step';

/** The owner-side steps, for deployments that start the API with LEDGER_API_MIGRATE=false. */
export function ledgerApiCli(): Command {
  const program = new Command('ledger-api').description('Owner steps of the ledger query API; they use DATABASE_URL (an owner or superuser connection).');
  const options = () => {
    const config = ledgerApiConfig();
    return { ownerDatabaseUrl: config.DATABASE_URL, readerRole: config.LEDGER_API_READER_ROLE, readerPassword: config.LEDGER_API_READER_PASSWORD };
  };
  program.command('migrate').description('create the read-only role, its grants on the ledger schema and the event trigger that keeps them across a swap').action(async () => {
    await runOwnerStep(options());
    console.log('ledger-api: reader role and grants are in place');
  });
  program.command('grant').description('grant the reader SELECT on the live ledger again (after a swap, where no event trigger could be created)').action(async () => {
    await regrant(options());
    console.log('ledger-api: granted');
  });
  return program;
}

if (require.main === module) {
  ledgerApiCli().parseAsync(process.argv).catch((error: Error) => {
    process.stderr.write(`ledger-api: ${error.message}\n`);
    process.exit(1);
  });
}
