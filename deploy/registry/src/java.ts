import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError, isNotFound, parseJavaMajor, runCommand } from '@tributary/kafka-provisioner';
import { REGISTRY_JAVA_MAJOR_MIN, REGISTRY_VERSION } from './version';

/** Where Debian's and Adoptium's packages put their JDKs. */
export const JVM_ROOT_DEFAULT = '/usr/lib/jvm';

export interface FoundJava {
  /** The `bin/java` to run. */
  readonly java: string;
  readonly major: number;
  /** Why this one: `JAVA_HOME` or the JVM folder it was found in. */
  readonly source: string;
}

export interface FindJavaOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The folder of installed JDKs; a test points it at a fake tree. */
  readonly jvmRoot?: string;
  readonly majorMin?: number;
}

/**
 * The Java that runs the registry. The machine's default Java may be older than the registry needs
 * (Kafka is content with 17), so: JAVA_HOME when it is new enough, else the newest JDK under
 * /usr/lib/jvm that is. None found is one line naming everything that was looked at.
 */
export async function findRegistryJava(opts: FindJavaOptions = {}): Promise<FoundJava> {
  const env = opts.env ?? process.env;
  const jvmRoot = opts.jvmRoot ?? JVM_ROOT_DEFAULT;
  const majorMin = opts.majorMin ?? REGISTRY_JAVA_MAJOR_MIN;
  const seen: string[] = [];
  if (env.JAVA_HOME) {
    const major = await javaMajorOf(env.JAVA_HOME);
    if (major !== undefined && major >= majorMin)
      return { java: path.join(env.JAVA_HOME, 'bin', 'java'), major, source: 'JAVA_HOME' };
    seen.push(`JAVA_HOME=${env.JAVA_HOME} (${major === undefined ? 'no Java there' : `Java ${major}`})`);
  }
  const candidates: FoundJava[] = [];
  for (const entry of listDirs(jvmRoot)) {
    const home = path.join(jvmRoot, entry);
    const major = await javaMajorOf(home);
    if (major === undefined) continue;
    candidates.push({ java: path.join(home, 'bin', 'java'), major, source: home });
  }
  const newest = candidates.filter((found) => found.major >= majorMin).sort((a, b) => b.major - a.major)[0];
  if (newest) return newest;
  seen.push(
    candidates.length === 0
      ? `${jvmRoot} (no JDK)`
      : `${jvmRoot} (${candidates.map((found) => `${path.basename(found.source)}: Java ${found.major}`).join(', ')})`,
  );
  throw new ProvisionError(
    `Apicurio Registry ${REGISTRY_VERSION} needs Java ${majorMin}+; looked at ${seen.join(' and ')}`,
    `install a JDK ${majorMin} or newer (e.g. apt-get install openjdk-${majorMin}-jre-headless) or set JAVA_HOME to one`,
  );
}

function listDirs(root: string): string[] {
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * The major version of the JDK at `home`: from its `release` file (every JDK since 9 has one, and it
 * needs no process), else from `bin/java -version`; undefined when there is no Java there.
 */
export async function javaMajorOf(home: string): Promise<number | undefined> {
  const java = path.join(home, 'bin', 'java');
  if (!fs.existsSync(java)) return undefined;
  const fromRelease = releaseMajor(path.join(home, 'release'));
  if (fromRelease !== undefined) return fromRelease;
  try {
    const result = await runCommand(java, ['-version']);
    return parseJavaMajor(result.stderr + result.stdout);
  } catch (error) {
    if (isNotFound(error) || (error as NodeJS.ErrnoException).code === 'EACCES') return undefined;
    throw error;
  }
}

/** JAVA_VERSION="25.0.3" -> 25, JAVA_VERSION="1.8.0_392" -> 8; undefined without the file or the line. */
export function releaseMajor(releaseFile: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(releaseFile, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^JAVA_VERSION="([^"]+)"/m.exec(text);
  return match ? parseJavaMajor(`version "${match[1]}"`) : undefined;
}
