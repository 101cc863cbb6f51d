import { z } from 'zod';
import { ConfigError } from './config-error';
import { brokerList, kafkaName, parseEnv, postgresUrl } from './env';

/** The defaults point at the local stack `npm start` brings up, so a newcomer needs no variables at all. */
export const LOCAL_KAFKA_BROKERS = '127.0.0.1:9092';
export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tributary';

const kafkaSchema = z.object({
  KAFKA_BROKERS: brokerList.prefault(LOCAL_KAFKA_BROKERS),
  KAFKA_CLIENT_ID: kafkaName.default('tributary'),
});
export type KafkaEnv = z.infer<typeof kafkaSchema>;
export const kafkaEnv = (env?: NodeJS.ProcessEnv): KafkaEnv => parseEnv('kafka', kafkaSchema, env);

const databaseSchema = z.object({ DATABASE_URL: postgresUrl.default(LOCAL_DATABASE_URL) });
export type DatabaseEnv = z.infer<typeof databaseSchema>;
export const databaseEnv = (env?: NodeJS.ProcessEnv): DatabaseEnv => parseEnv('database', databaseSchema, env);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
const logSchema = z.object({ LOG_LEVEL: z.enum(LOG_LEVELS).default('log') });

/** Nest's logger levels from LOG_LEVEL: the named level and every more severe one. */
export function logLevels(env?: NodeJS.ProcessEnv): Array<(typeof LOG_LEVELS)[number]> {
  const { LOG_LEVEL } = parseEnv('logging', logSchema, env);
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(LOG_LEVEL) + 1);
}

/**
 * Ends a service whose start-up failed. A bad configuration is the operator's to fix: one line naming
 * the variable, no stack trace; anything else keeps its stack for whoever debugs it.
 */
export function exitOnStartupFailure(service: string) {
  return (error: unknown): never => {
    const line = error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error);
    process.stderr.write(`${service}: ${line}\n`);
    process.exit(1);
  };
}
