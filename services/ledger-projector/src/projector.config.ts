import { z } from 'zod';
import { boundedInt, databaseEnv, kafkaName, parseEnv } from '@tributary/config';
import { CONSUMER_GROUPS } from '@tributary/contracts';

const projectorSchema = z.object({
  LEDGER_PROJECTOR_GROUP_ID: kafkaName.default(CONSUMER_GROUPS.ledgerProjector),
  LEDGER_PROJECTOR_HTTP_PORT: boundedInt(0, 65_535, 3102),
  /** 127.0.0.1 on a developer's machine; 0.0.0.0 inside a container. */
  HTTP_HOST: z.string().trim().regex(/^[0-9a-fA-F.:]+$|^localhost$/, 'must be an IP address or localhost').default('127.0.0.1'),
  LEDGER_PROJECTOR_DB_POOL_MAX: boundedInt(1, 100, 10),
});

/** Everything the projector reads from its environment, validated before anything starts. */
export function projectorConfig(env: NodeJS.ProcessEnv = process.env) {
  return { ...parseEnv('ledger-projector', projectorSchema, env), ...databaseEnv(env) };
}
export type ProjectorConfig = ReturnType<typeof projectorConfig>;
export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');
