import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from './errors';
import type { Log } from './install';
import { runCommand } from './process';

/**
 * The TLS material of one local broker, made once with the JDK's keytool into the git-ignored cache: a
 * CA of its own, and a broker key pair whose certificate that CA signs for 127.0.0.1 and localhost. The
 * CA's key never leaves the cache, so no client can obtain a certificate the broker's mutual-TLS
 * listeners (controller, inter-broker) would accept: those stay the brokers' own.
 */
export interface TlsFiles {
  readonly dir: string;
  /** PEM: what clients trust (KAFKA_CA_FILE) and the broker's truststore. */
  readonly caCertificate: string;
  /** PKCS12: the broker's key and certificate chain. */
  readonly brokerKeystore: string;
  /** The keystore's password, in a file only the owner reads. */
  readonly keystorePasswordFile: string;
  /** A Java client config that authenticates as the broker itself (mutual TLS), for the provisioner. */
  readonly brokerClientProperties: string;
}

/** The broker certificate's subject; `ssl.principal.mapping.rules` turns it into the principal `tributary-broker`. */
export const BROKER_CERTIFICATE_CN = 'tributary-broker';
const CA_CN = 'tributary-local-ca';
const VALIDITY_DAYS = 3650;
const PASSWORD_ENV = 'TRIBUTARY_KEYSTORE_PASSWORD';
const CA_PASSWORD_ENV = 'TRIBUTARY_CA_PASSWORD';

export function tlsFiles(tlsDir: string): TlsFiles {
  return {
    dir: tlsDir,
    caCertificate: path.join(tlsDir, 'ca.crt'),
    brokerKeystore: path.join(tlsDir, 'broker.p12'),
    keystorePasswordFile: path.join(tlsDir, 'keystore.password'),
    brokerClientProperties: path.join(tlsDir, 'broker-client.properties'),
  };
}

/** Writes the Java client config with which the provisioner acts as the broker on its mutual-TLS listener. */
export function writeBrokerClientProperties(files: TlsFiles): void {
  const text = [
    'security.protocol=SSL',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${files.brokerKeystore}`,
    `ssl.keystore.password=${fs.readFileSync(files.keystorePasswordFile, 'utf8').trim()}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${files.caCertificate}`,
    '',
  ].join('\n');
  fs.writeFileSync(files.brokerClientProperties, text, { mode: 0o600 });
}

function keytoolExecutable(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome ? path.join(javaHome, 'bin', 'keytool') : 'keytool';
}

/** Makes the CA and the broker's keystore when they are not there yet; returns where they are. */
export async function ensureTlsMaterial(tlsDir: string, log: Log): Promise<TlsFiles> {
  const files = tlsFiles(tlsDir);
  if (
    fs.existsSync(files.brokerKeystore) &&
    fs.existsSync(files.caCertificate) &&
    fs.existsSync(files.keystorePasswordFile)
  )
    return files;
  log(`making a CA and a broker certificate in ${tlsDir} (keytool)`);
  fs.rmSync(tlsDir, { recursive: true, force: true });
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const caKeystore = path.join(tlsDir, 'ca.p12');
  const csr = path.join(tlsDir, 'broker.csr');
  const signed = path.join(tlsDir, 'broker.crt');
  const keystorePassword = randomBytes(24).toString('base64url');
  const caPassword = randomBytes(24).toString('base64url');
  const env = { ...process.env, [PASSWORD_ENV]: keystorePassword, [CA_PASSWORD_ENV]: caPassword };
  const ca = ['-keystore', caKeystore, '-storetype', 'PKCS12', '-storepass:env', CA_PASSWORD_ENV];
  const broker = ['-keystore', files.brokerKeystore, '-storetype', 'PKCS12', '-storepass:env', PASSWORD_ENV];
  const san = 'SAN=ip:127.0.0.1,dns:localhost';
  const steps: string[][] = [
    [
      '-genkeypair',
      '-alias',
      'ca',
      '-keyalg',
      'EC',
      '-groupname',
      'secp256r1',
      '-dname',
      `CN=${CA_CN}`,
      '-ext',
      'bc:c',
      '-validity',
      `${VALIDITY_DAYS}`,
      ...ca,
    ],
    ['-exportcert', '-rfc', '-alias', 'ca', '-file', files.caCertificate, ...ca],
    [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'EC',
      '-groupname',
      'secp256r1',
      '-dname',
      `CN=${BROKER_CERTIFICATE_CN}`,
      '-validity',
      `${VALIDITY_DAYS}`,
      ...broker,
    ],
    ['-certreq', '-alias', 'broker', '-file', csr, ...broker],
    [
      '-gencert',
      '-alias',
      'ca',
      '-infile',
      csr,
      '-outfile',
      signed,
      '-rfc',
      '-validity',
      `${VALIDITY_DAYS}`,
      '-ext',
      san,
      '-ext',
      'EKU=serverAuth,clientAuth',
      ...ca,
    ],
    ['-importcert', '-noprompt', '-alias', 'ca', '-file', files.caCertificate, ...broker],
    ['-importcert', '-alias', 'broker', '-file', signed, ...broker],
  ];
  for (const step of steps) await keytool(step, env);
  fs.writeFileSync(files.keystorePasswordFile, `${keystorePassword}\n`, { mode: 0o600 });
  for (const file of [csr, signed]) fs.rmSync(file, { force: true });
  fs.chmodSync(caKeystore, 0o600);
  fs.chmodSync(files.brokerKeystore, 0o600);
  return files;
}

async function keytool(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let result;
  try {
    result = await runCommand(keytoolExecutable(), args, { env });
  } catch {
    throw new ProvisionError(
      "keytool not found (the JDK makes the broker's certificates with it)",
      'install a JDK 17+ (apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to one',
    );
  }
  if (result.code !== 0) {
    throw new ProvisionError(
      `keytool ${args[0]} failed (exit ${result.code})`,
      'check the JDK: `keytool -help`',
      (result.stderr + result.stdout).trim(),
    );
  }
}
