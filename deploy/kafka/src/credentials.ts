import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { localBrokerFiles, Secret } from '@tributary/config';
import { OPERATOR_PRINCIPAL, SERVICE_PRINCIPALS } from '@tributary/contracts';
import { renderClientProperties } from './config';
import { ProvisionError } from './errors';
import { ensureKafkaInstalled, javaExecutable } from './install';
import { runCommand } from './process';
import { javaClassPath } from './tools';

/**
 * The SCRAM credentials of one local broker's principals. Each password is random, lives in a file
 * only the owner reads (`<cache>/kafka-data/<broker>/credentials/<principal>.password`), and is handed
 * to a process by path (KAFKA_PASSWORD_FILE), never on a command line or in a log. For the operator and
 * the services those files are the source of truth: every start of the broker makes it hold exactly them.
 */
export const LOCAL_PRINCIPALS: readonly string[] = [OPERATOR_PRINCIPAL, ...SERVICE_PRINCIPALS];
const PASSWORD_BYTES = 24;
const SCRAM_TOOL = path.resolve(__dirname, '..', 'java', 'ScramCredentials.java');

export function newPassword(): string {
  return randomBytes(PASSWORD_BYTES).toString('base64url');
}

export function credentialFiles(brokerName: string) {
  return localBrokerFiles(brokerName);
}

/** The principal's password, made (and its Java client config written) when it has none yet. */
export function ensurePasswordFile(brokerName: string, principal: string): Secret {
  const files = credentialFiles(brokerName);
  const file = files.passwordFile(principal);
  if (!fs.existsSync(file)) writePassword(brokerName, principal, newPassword());
  return readPassword(brokerName, principal);
}

export function readPassword(brokerName: string, principal: string): Secret {
  const file = credentialFiles(brokerName).passwordFile(principal);
  try {
    return new Secret(fs.readFileSync(file, 'utf8').trim());
  } catch {
    throw new ProvisionError(
      `principal '${principal}' has no password on broker '${brokerName}' (${file})`,
      'list principals with `npm run kafka -- principals list`',
    );
  }
}

/** Stores a password and the principal's Java client config (kafka-topics --command-config <file>). */
export function writePassword(brokerName: string, principal: string, password: string): void {
  const files = credentialFiles(brokerName);
  fs.mkdirSync(files.credentialsDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.passwordFile(principal), `${password}\n`, { mode: 0o600 });
  fs.writeFileSync(
    files.clientProperties(principal),
    renderClientProperties(principal, password, files.caCertificate),
    { mode: 0o600 },
  );
}

export function removePassword(brokerName: string, principal: string): void {
  const files = credentialFiles(brokerName);
  fs.rmSync(files.passwordFile(principal), { force: true });
  fs.rmSync(files.clientProperties(principal), { force: true });
}

export type ScramCommand =
  | { readonly kind: 'upsert'; readonly principal: string; readonly password: Secret }
  | { readonly kind: 'delete'; readonly principal: string };

/** How the Admin API is reached: a bootstrap address and the Java client config to connect with. */
export interface AdminConnection {
  readonly bootstrap: string;
  readonly clientProperties: string;
}

/** The operator on the client listener: how the operator's commands alter credentials. */
export function operatorConnection(brokerName: string, brokers: string): AdminConnection {
  const clientProperties = credentialFiles(brokerName).clientProperties(OPERATOR_PRINCIPAL);
  if (!fs.existsSync(clientProperties)) {
    throw new ProvisionError(
      `broker '${brokerName}' has no operator credentials (${clientProperties})`,
      `start it secured first: \`npm run kafka -- start --name ${brokerName}\``,
    );
  }
  return { bootstrap: brokers, clientProperties };
}

/**
 * Alters credentials on a running broker through Kafka's Admin API (deploy/kafka/java/ScramCredentials.java),
 * passwords on standard input. Returns the principals the broker then holds.
 */
export async function alterScramCredentials(
  connection: AdminConnection,
  commands: readonly ScramCommand[],
): Promise<string[]> {
  const libs = await ensureKafkaInstalled();
  const lines = commands.map((command) =>
    command.kind === 'upsert'
      ? `upsert\t${command.principal}\t${command.password.reveal()}`
      : `delete\t${command.principal}`,
  );
  const result = await runCommand(
    javaExecutable(),
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-cp',
      javaClassPath(libs),
      SCRAM_TOOL,
      connection.clientProperties,
      connection.bootstrap,
    ],
    {
      input: [...lines, 'list', ''].join('\n'),
    },
  );
  if (result.code !== 0) {
    const detail = result.stderr
      .split('\n')
      .filter((line) => /Exception|Error/.test(line))
      .slice(0, 5)
      .join('\n');
    throw new ProvisionError(
      `altering SCRAM credentials through ${connection.bootstrap} failed (exit ${result.code})`,
      'is the broker running? `npm run kafka -- status`',
      detail,
    );
  }
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}
