import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { parseEnv, postgresUrl } from './env';
import { cacheDir } from './kafka-security';
import { redactUrlsIn } from './redact';

/** The defaults point at the local stack `npm start` brings up, so a newcomer needs no variables at all. */
export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tributary';

/**
 * Where `npm start` keeps the local stack's payouts operator token (generated once, mode 0600), which it
 * hands the payouts service as PAYOUTS_OPERATOR_TOKEN and the simulator reads to record deposits.
 */
export function localOperatorTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'local', 'payouts-operator-token');
}

/**
 * Where `npm start` keeps an operator's read credential for the local stack (issued once, mode 0600,
 * issued again when the database no longer knows it): for signing in to the dashboard and reading the
 * ledger API and the payouts statements; never printed.
 */
export function localReadCredentialFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'local', 'read-operator-credential');
}

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
 * the variable, no stack trace; anything else keeps its stack for whoever debugs it. Kafka refusing the
 * credentials or the broker's certificate is configuration too, and never retried: a wrong password
 * stays wrong.
 */
export function exitOnStartupFailure(service: string) {
  return (error: unknown): never => {
    const line =
      error instanceof ConfigError
        ? error.message
        : (kafkaCredentialProblem(error) ?? (error as Error).stack ?? String(error));
    // The line may quote a driver's message or stack, which the service did not compose: no URL password in it.
    process.stderr.write(`${service}: ${redactUrlsIn(line)}\n`);
    process.exit(1);
  };
}

const CAUSE_DEPTH_MAX = 8;

/** The one line for an error that Kafka's refusal of this process's credentials caused, if one did. */
export function kafkaCredentialProblem(error: unknown): string | undefined {
  let current = error as
    { name?: string; message?: string; code?: string; originalError?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < CAUSE_DEPTH_MAX; depth += 1) {
    if (current.name === 'KafkaJSSASLAuthenticationError') {
      return `invalid kafka configuration: KAFKA_USERNAME / KAFKA_PASSWORD: the broker refused the credentials (${current.message})`;
    }
    if (typeof current.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(current.code)) {
      return `invalid kafka configuration: KAFKA_CA_FILE: the broker's certificate is not trusted (${current.code}: ${current.message})`;
    }
    current = (current.originalError ?? current.cause) as typeof current;
  }
  return undefined;
}
