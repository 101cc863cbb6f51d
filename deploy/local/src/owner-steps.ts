import {
  DATABASE_ACCESS,
  runOwnerStep,
  serviceDatabaseConfig,
  type DatabaseService,
  type ServiceDatabaseConfig,
} from '@tributary/persistence';
import { ownerMigrations as attributionMigrations } from '../../../services/attribution/src/database/data-source-options';
import { ownerMigrations as gatewayMigrations } from '../../../services/gateway/src/database/data-source-options';
import { runOwnerStep as runLedgerApiOwnerStep } from '../../../services/ledger-api/src/database/owner-step';
import { ownerMigrations as ledgerMigrations } from '../../../services/ledger-projector/src/database/data-source-options';
import { ownerMigrations as payoutsMigrations } from '../../../services/payouts/src/database/data-source-options';
import type { LocalService } from './services';

type OwnerStep = (ownerUrl: string, env: NodeJS.ProcessEnv) => Promise<Record<string, string>>;

/** One service's owner step, and the variables that hand it its role's connection alone. */
const ownerStep =
  (service: DatabaseService, step: (ownerUrl: string, database: ServiceDatabaseConfig) => Promise<void>): OwnerStep =>
  async (ownerUrl, env) => {
    const database = serviceDatabaseConfig(service, { ...env, DATABASE_URL: ownerUrl });
    await step(ownerUrl, database);
    const { variables } = DATABASE_ACCESS[service];
    return { [variables.url]: database.url, [variables.migrate]: 'false' };
  };

/** Each service's step, in the order they run: the ledger's tables first, so the readers' grants find them. */
const OWNER_STEPS: Record<DatabaseService, OwnerStep> = {
  'ledger-projector': ownerStep('ledger-projector', (url, db) => runOwnerStep(url, db, ledgerMigrations)),
  gateway: ownerStep('gateway', (url, db) => runOwnerStep(url, db, gatewayMigrations)),
  attribution: ownerStep('attribution', (url, db) => runOwnerStep(url, db, attributionMigrations)),
  payouts: ownerStep('payouts', (url, db) => runOwnerStep(url, db, payoutsMigrations)),
  'ledger-api': ownerStep('ledger-api', (url, db) =>
    runLedgerApiOwnerStep({ ownerDatabaseUrl: url, readerRole: db.role, readerPassword: db.password }),
  ),
};

/**
 * `npm start`'s owner steps, run here with the owner's (the local superuser's) connection before any service
 * starts: each service's migrations, its role and the role's grants. Returns, per service, the variables
 * that give it its role's connection and tell it not to run the step itself, so no service is handed the
 * owner's URL.
 */
export async function runOwnerSteps(
  ownerUrl: string,
  services: readonly LocalService[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<string, Record<string, string>>> {
  const handed = new Map<string, Record<string, string>>();
  for (const name of Object.keys(OWNER_STEPS) as DatabaseService[]) {
    if (services.some((service) => service.name === name)) handed.set(name, await OWNER_STEPS[name](ownerUrl, env));
  }
  return handed;
}
