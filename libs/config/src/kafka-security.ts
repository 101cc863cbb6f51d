import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { brokerList, kafkaName, parseEnv } from './env';
import { projectRoot } from './project-root';

/**
 * How every Kafka client of Tributary authenticates: SASL/SCRAM-SHA-512 over TLS unless plaintext is
 * asked for by name. The defaults point at the local stack `npm start` brings up (its broker, its CA, the
 * password files the provisioner wrote), so a newcomer sets nothing; anywhere else the files do not
 * exist and the error names the variable to set.
 */
export const LOCAL_KAFKA_BROKERS = '127.0.0.1:9092';
/** The local development broker's name under the cache (deploy/kafka). */
export const LOCAL_KAFKA_NAME = 'dev';

export const KAFKA_SECURITY_MODES = ['sasl_ssl', 'plaintext'] as const;
export type KafkaSecurityMode = (typeof KAFKA_SECURITY_MODES)[number];

/** The git-ignored cache of the local stack; TRIBUTARY_CACHE_DIR moves it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRIBUTARY_CACHE_DIR ?? path.join(projectRoot(), '.cache');
}

/** Where the provisioner keeps a local broker's data, TLS material and principals' passwords. */
export function localBrokerFiles(name: string, env: NodeJS.ProcessEnv = process.env) {
  const dataDir = path.join(cacheDir(env), 'kafka-data', name);
  const tlsDir = path.join(dataDir, 'tls');
  const credentialsDir = path.join(dataDir, 'credentials');
  return {
    dataDir,
    tlsDir,
    credentialsDir,
    caCertificate: path.join(tlsDir, 'ca.crt'),
    passwordFile: (principal: string) => path.join(credentialsDir, `${principal}.password`),
    /** A Java client config (kafka-topics --command-config ...) for that principal. */
    clientProperties: (principal: string) => path.join(credentialsDir, `${principal}.properties`),
  };
}

/** A value that must never reach a log line: printing, JSON and util.inspect all show it redacted. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** What a kafkajs client needs to authenticate; structurally kafkajs's `ssl` and `sasl` options. */
export type KafkaSecurity =
  | { readonly mode: 'plaintext' }
  | { readonly mode: 'sasl_ssl'; readonly username: string; readonly password: Secret; readonly caPem: string };

/** Principal names as the broker and Kafka's tools show them (`User:<name>`). */
export const principalName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9.-]{0,63}$/, 'must be 1-64 lower-case letters, digits, "." or "-", starting with a letter');

const kafkaSchema = z.object({
  KAFKA_BROKERS: brokerList.prefault(LOCAL_KAFKA_BROKERS),
  KAFKA_CLIENT_ID: kafkaName.default('tributary'),
  KAFKA_SECURITY: z
    .enum(KAFKA_SECURITY_MODES, { message: `must be one of ${KAFKA_SECURITY_MODES.join(', ')}` })
    .default('sasl_ssl'),
  KAFKA_USERNAME: principalName.optional(),
  KAFKA_PASSWORD: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters').optional(),
  KAFKA_PASSWORD_FILE: z.string().trim().min(1, 'must be a file path').optional(),
  KAFKA_CA_FILE: z.string().trim().min(1, 'must be a file path').optional(),
});

export interface KafkaEnv {
  readonly KAFKA_BROKERS: string[];
  readonly KAFKA_CLIENT_ID: string;
  readonly KAFKA_SECURITY: KafkaSecurityMode;
  readonly kafkaSecurity: KafkaSecurity;
}

/**
 * The Kafka connection of one process. `principal` is the name it authenticates as when KAFKA_USERNAME
 * is not set: each service passes its own, command-line tools the operator's.
 */
export function kafkaEnv(env: NodeJS.ProcessEnv = process.env, principal = 'operator'): KafkaEnv {
  const parsed = parseEnv('kafka', kafkaSchema, withoutEmpty(env, CREDENTIAL_VARIABLES));
  const base = {
    KAFKA_BROKERS: parsed.KAFKA_BROKERS,
    KAFKA_CLIENT_ID: parsed.KAFKA_CLIENT_ID,
    KAFKA_SECURITY: parsed.KAFKA_SECURITY,
  };
  if (parsed.KAFKA_SECURITY === 'plaintext') return { ...base, kafkaSecurity: { mode: 'plaintext' } };
  const local = localBrokerFiles(LOCAL_KAFKA_NAME, env);
  const username = parsed.KAFKA_USERNAME ?? principal;
  const password =
    parsed.KAFKA_PASSWORD ??
    readConfigFile(
      'KAFKA_PASSWORD_FILE',
      parsed.KAFKA_PASSWORD_FILE ?? local.passwordFile(username),
      'the password of principal ' + username,
    ).trim();
  if (password.length === 0)
    throw new ConfigError('kafka', [{ field: 'KAFKA_PASSWORD_FILE', rule: 'the file is empty' }]);
  const caPem = readConfigFile(
    'KAFKA_CA_FILE',
    parsed.KAFKA_CA_FILE ?? local.caCertificate,
    "the PEM certificate of the CA that signed the brokers' certificates",
  );
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError('kafka', [
      { field: 'KAFKA_CA_FILE', rule: 'must hold a PEM certificate (-----BEGIN CERTIFICATE-----)' },
    ]);
  }
  return { ...base, kafkaSecurity: { mode: 'sasl_ssl', username, password: new Secret(password), caPem } };
}

const CREDENTIAL_VARIABLES = ['KAFKA_USERNAME', 'KAFKA_PASSWORD', 'KAFKA_PASSWORD_FILE', 'KAFKA_CA_FILE'] as const;

/** An empty credential variable (`KAFKA_PASSWORD=` in a compose file) means "not set", as in a shell. */
function withoutEmpty(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of names) if (copy[name] === '') delete copy[name];
  return copy;
}

function readConfigFile(variable: string, file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError('kafka', [
      { field: variable, rule: `cannot read ${file} (${code}); it must name a file holding ${what}` },
    ]);
  }
}

/**
 * The options every kafkajs client of Tributary starts from: brokers, client id and authentication.
 * The result is structurally kafkajs's KafkaConfig, so this library needs no kafkajs import.
 */
export function kafkaClientOptions(
  config: Pick<KafkaEnv, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID' | 'kafkaSecurity'>,
  clientId = config.KAFKA_CLIENT_ID,
) {
  return { clientId, brokers: [...config.KAFKA_BROKERS], ...kafkaSecurityOptions(config.kafkaSecurity) };
}

/** kafkajs's `ssl` and `sasl` options for a security setting (none for plaintext). */
export function kafkaSecurityOptions(security: KafkaSecurity) {
  if (security.mode === 'plaintext') return {};
  return {
    // Node checks the broker certificate's chain against this CA and its name against the address dialled.
    ssl: { ca: [security.caPem], rejectUnauthorized: true },
    sasl: { mechanism: 'scram-sha-512' as const, username: security.username, password: security.password.reveal() },
  };
}

/** The one-line description of a connection a process may log: never the password. */
export function describeKafkaSecurity(security: KafkaSecurity): string {
  return security.mode === 'plaintext' ? 'PLAINTEXT (no authentication)' : `SASL_SSL as ${security.username}`;
}
