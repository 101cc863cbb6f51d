import { z } from 'zod';
import { boundedInt, httpHost, kafkaName, parseEnv } from '@tributary/config';
import { serviceDatabaseConfig } from '@tributary/persistence';
import { CONSUMER_GROUPS } from '@tributary/contracts';

const projectorSchema = z.object({
  LEDGER_PROJECTOR_GROUP_ID: kafkaName.default(CONSUMER_GROUPS.ledgerProjector),
  LEDGER_PROJECTOR_HTTP_PORT: boundedInt(0, 65_535, 3102),
  HTTP_HOST: httpHost,
  LEDGER_PROJECTOR_DB_POOL_MAX: boundedInt(1, 100, 10),
  LEDGER_PROJECTOR_LAG_SAMPLE_MS: boundedInt(500, 600_000, 5_000),
});

/** Everything the projector reads from its environment, validated before anything starts. */
export function projectorConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...parseEnv('ledger-projector', projectorSchema, env),
    /** Its role's connection (LEDGER_PROJECTOR_DB_*), and the owner's (DATABASE_URL) for the owner step only. */
    database: serviceDatabaseConfig('ledger-projector', env),
  };
}
export type ProjectorConfig = ReturnType<typeof projectorConfig>;
export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');
