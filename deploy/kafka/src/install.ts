import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from './errors';
import { POM_FILE, libsDir } from './paths';
import { isNotFound, runCommand } from './process';
import { JAVA_MAJOR_MIN, KAFKA_VERSION } from './version';

// Written last, so a libs folder without it is a half-finished download and is redone.
export const INSTALL_MARKER_FILE = '.tributary-complete';

export type Log = (line: string) => void;
const silent: Log = () => undefined;

const JAVA_HINT =
  `install a JDK ${JAVA_MAJOR_MIN} (apt-get install openjdk-${JAVA_MAJOR_MIN}-jre-headless) ` +
  'or set JAVA_HOME to one';

/** JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH (same rule as Kafka's scripts). */
export function javaExecutable(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
}

/** "17.0.15" -> 17, "1.8.0_392" -> 8, "21" -> 21; undefined when there is no version string. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

export async function assertJava(): Promise<string> {
  const java = javaExecutable();
  let output: string;
  try {
    const result = await runCommand(java, ['-version']);
    output = result.stderr + result.stdout;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const where = process.env.JAVA_HOME ? `at ${java} (from JAVA_HOME)` : 'on PATH';
    throw new ProvisionError(`Java ${JAVA_MAJOR_MIN}+ not found ${where}`, JAVA_HINT);
  }
  const major = parseJavaMajor(output);
  if (major === undefined || major < JAVA_MAJOR_MIN) {
    throw new ProvisionError(
      `Kafka ${KAFKA_VERSION} needs Java ${JAVA_MAJOR_MIN}+, found '${java}' reporting ${major ?? 'no version'}`,
      JAVA_HINT,
    );
  }
  return java;
}

async function assertMaven(): Promise<void> {
  try {
    await runCommand('mvn', ['-v']);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new ProvisionError(
      'Maven (mvn) not found on PATH; it resolves Kafka from Maven Central',
      'install Maven 3.8+ (apt-get install maven) and make sure `mvn -v` works',
    );
  }
}

export function isInstalled(version: string = KAFKA_VERSION): boolean {
  return fs.existsSync(path.join(libsDir(version), INSTALL_MARKER_FILE));
}

/** Resolves Kafka's jars into the cache once; later calls only check the marker. Returns the libs dir. */
export async function ensureKafkaInstalled(opts: { log?: Log } = {}): Promise<string> {
  const log = opts.log ?? silent;
  const target = libsDir();
  await assertJava();
  if (isInstalled()) return target;
  await assertMaven();
  log(`resolving Apache Kafka ${KAFKA_VERSION} from Maven Central into ${target}`);
  const staging = `${target}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  await copyDependencies(staging);
  fs.writeFileSync(path.join(staging, INSTALL_MARKER_FILE), `${KAFKA_VERSION}\n`);
  publish(staging, target);
  log(`installed Apache Kafka ${KAFKA_VERSION} (${countJars(target)} jars)`);
  return target;
}

async function copyDependencies(outputDir: string): Promise<void> {
  const args = [
    '-q',
    '-B',
    '-f',
    POM_FILE,
    `-Dkafka.version=${KAFKA_VERSION}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${outputDir}`,
  ];
  const result = await runCommand('mvn', args);
  if (result.code === 0) return;
  fs.rmSync(outputDir, { recursive: true, force: true });
  throw new ProvisionError(
    `Maven could not resolve Apache Kafka ${KAFKA_VERSION} (${firstMavenError(result.stdout + result.stderr)})`,
    'check access to Maven Central (https://repo.maven.apache.org) and any mirror in ~/.m2/settings.xml; ' +
      `run \`mvn -B -f ${POM_FILE} dependency:copy-dependencies\` for the full log`,
  );
}

export function firstMavenError(output: string): string {
  const line =
    output.split('\n').find((candidate) => candidate.includes('[ERROR]')) ?? output.trim().split('\n')[0] ?? '';
  const text = line
    .replace(/\u001b\[[0-9;]*m/g, '')
    .replace('[ERROR]', '')
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}...` : text || 'no output';
}

// Rename is atomic, so a concurrent reader sees either no libs dir or a complete one. When another
// process won the race, its copy is as good as ours.
function publish(staging: string, target: string): void {
  if (isInstalled()) {
    fs.rmSync(staging, { recursive: true, force: true });
    return;
  }
  fs.rmSync(target, { recursive: true, force: true }); // a stale copy without the marker
  try {
    fs.renameSync(staging, target);
  } catch (error) {
    if (!isInstalled()) throw error;
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function countJars(dir: string): number {
  return fs.readdirSync(dir).filter((file) => file.endsWith('.jar')).length;
}
