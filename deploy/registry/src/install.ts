import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Log, ProvisionError, firstMavenError, isNotFound, runCommand } from '@tributary/kafka-provisioner';
import { registryHomeDir } from './paths';
import { MAVEN_DEPENDENCY_PLUGIN, REGISTRY_ARCHIVE_SHA256, REGISTRY_ARTIFACT, REGISTRY_VERSION } from './version';

// Written last, so a folder without it is a half-finished install and is redone (as for Kafka).
export const INSTALL_MARKER_FILE = '.tributary-complete';
export const RUNNER_JAR = 'quarkus-run.jar';

const silent: Log = () => undefined;

export function isRegistryInstalled(home: string = registryHomeDir()): boolean {
  return fs.existsSync(path.join(home, INSTALL_MARKER_FILE)) && fs.existsSync(path.join(home, RUNNER_JAR));
}

/**
 * Resolves Apicurio Registry's release archive from Maven Central once (Maven checks the repository's
 * checksum, we check the pinned SHA-256), unpacks it into the cache and returns the folder holding
 * `quarkus-run.jar`. Later calls only check the marker.
 */
export async function ensureRegistryInstalled(opts: { log?: Log } = {}): Promise<string> {
  const log = opts.log ?? silent;
  const target = registryHomeDir();
  if (isRegistryInstalled(target)) return target;
  await assertMaven();
  log(`resolving Apicurio Registry ${REGISTRY_VERSION} (${REGISTRY_ARTIFACT}) from Maven Central into ${target}`);
  const staging = `${target}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    const archive = await downloadArchive(staging);
    assertArchiveDigest(archive);
    await unpack(archive, staging);
    fs.rmSync(archive);
    if (!fs.existsSync(path.join(staging, RUNNER_JAR)))
      throw new ProvisionError(
        `the Apicurio Registry ${REGISTRY_VERSION} archive holds no ${RUNNER_JAR}`,
        `check ${REGISTRY_ARTIFACT} in the local Maven repository (~/.m2)`,
      );
    fs.writeFileSync(path.join(staging, INSTALL_MARKER_FILE), `${REGISTRY_VERSION}\n`);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  publish(staging, target);
  log(`installed Apicurio Registry ${REGISTRY_VERSION} in ${target}`);
  return target;
}

async function assertMaven(): Promise<void> {
  try {
    await runCommand('mvn', ['-v']);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new ProvisionError(
      'Maven (mvn) not found on PATH; it resolves Apicurio Registry from Maven Central',
      'install Maven 3.8+ (apt-get install maven) and make sure `mvn -v` works',
    );
  }
}

async function downloadArchive(outputDir: string): Promise<string> {
  // Run outside the repository: the `copy` goal needs no project, and must not pick up a pom by chance.
  const args = [
    '-q',
    '-B',
    '--strict-checksums',
    `${MAVEN_DEPENDENCY_PLUGIN}:copy`,
    `-Dartifact=${REGISTRY_ARTIFACT}`,
    `-DoutputDirectory=${outputDir}`,
  ];
  const result = await runCommand('mvn', args, { cwd: os.tmpdir() });
  const archive = path.join(outputDir, `apicurio-registry-app-${REGISTRY_VERSION}-all.tar.gz`);
  if (result.code === 0 && fs.existsSync(archive)) return archive;
  throw new ProvisionError(
    `Maven could not resolve Apicurio Registry ${REGISTRY_VERSION} (${firstMavenError(result.stdout + result.stderr)})`,
    'check access to Maven Central (https://repo.maven.apache.org) and any mirror in ~/.m2/settings.xml; ' +
      `run \`mvn -B ${MAVEN_DEPENDENCY_PLUGIN}:copy -Dartifact=${REGISTRY_ARTIFACT}\` for the full log`,
  );
}

/** Streams the file through SHA-256 in chunks: the archive is about 150 MB. */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

export function assertArchiveDigest(archive: string, expected: string = REGISTRY_ARCHIVE_SHA256): void {
  const actual = sha256File(archive);
  if (actual === expected) return;
  throw new ProvisionError(
    `${path.basename(archive)} has SHA-256 ${actual}, not the pinned ${expected}`,
    'delete it from ~/.m2/repository/io/apicurio and install again; if it persists, the repository serves other bytes than the release',
  );
}

async function unpack(archive: string, into: string): Promise<void> {
  const result = await runCommand('tar', ['-xzf', archive, '-C', into]);
  if (result.code !== 0)
    throw new ProvisionError(
      `could not unpack ${path.basename(archive)} (tar exit ${result.code})`,
      'check free disk space in the cache',
      result.stderr.trim(),
    );
}

// Rename is atomic: a concurrent start sees no folder or a complete one (the same rule as for Kafka).
function publish(staging: string, target: string): void {
  if (isRegistryInstalled(target)) {
    fs.rmSync(staging, { recursive: true, force: true });
    return;
  }
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    fs.renameSync(staging, target);
  } catch (error) {
    if (!isRegistryInstalled(target)) throw error;
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
