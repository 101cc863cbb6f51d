// Proves the registry's Java finder takes JAVA_HOME when it is 21+, else the newest JDK of the JVM folder,
// and fails with one line naming everything it looked at, by pointing it at fake JDK trees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProvisionError, formatProvisionError } from '@tributary/kafka-provisioner';
import { findRegistryJava, releaseMajor } from './java';

let root: string;

/** A fake JDK: bin/java (never run: the release file answers) and a release file. */
function jdk(dir: string, javaVersion: string | undefined): string {
  const home = path.join(root, dir);
  fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(home, 'bin', 'java'), '');
  if (javaVersion !== undefined)
    fs.writeFileSync(path.join(home, 'release'), `IMPLEMENTOR="x"\nJAVA_VERSION="${javaVersion}"\n`);
  return home;
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'jvm-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('findRegistryJava', () => {
  it('takes the newest JDK of the JVM folder when JAVA_HOME is unset', async () => {
    jdk('java-17-openjdk-amd64', '17.0.15');
    jdk('temurin-21-jdk-amd64', '21.0.4');
    const newest = jdk('temurin-25-jdk-amd64', '25.0.3');
    fs.mkdirSync(path.join(root, 'openjdk-17')); // a folder without bin/java (Debian's src.zip holder)
    const found = await findRegistryJava({ env: {}, jvmRoot: root });
    expect(found).toEqual({ java: path.join(newest, 'bin', 'java'), major: 25, source: newest });
  });

  it('takes JAVA_HOME when it is 21 or newer, even with a newer JDK in the folder', async () => {
    const home = jdk('temurin-21-jdk-amd64', '21.0.4');
    jdk('temurin-25-jdk-amd64', '25.0.3');
    const found = await findRegistryJava({ env: { JAVA_HOME: home }, jvmRoot: root });
    expect(found).toEqual({ java: path.join(home, 'bin', 'java'), major: 21, source: 'JAVA_HOME' });
  });

  it('passes over a JAVA_HOME of Java 17 to the newest JDK of the folder', async () => {
    const old = jdk('java-17-openjdk-amd64', '17.0.15');
    const newest = jdk('temurin-25-jdk-amd64', '25.0.3');
    const found = await findRegistryJava({ env: { JAVA_HOME: old }, jvmRoot: root });
    expect(found.java).toBe(path.join(newest, 'bin', 'java'));
  });

  it('fails with one line naming JAVA_HOME, the folder and what each held', async () => {
    const old = jdk('java-17-openjdk-amd64', '17.0.15');
    jdk('java-11-openjdk-amd64', '11.0.2');
    const error: unknown = await findRegistryJava({ env: { JAVA_HOME: old }, jvmRoot: root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    const line = formatProvisionError(error as ProvisionError);
    expect(line).toBe(
      `tributary: Apicurio Registry 3.3.3 needs Java 21+; looked at JAVA_HOME=${old} (Java 17) and ${root} ` +
        '(java-11-openjdk-amd64: Java 11, java-17-openjdk-amd64: Java 17): install a JDK 21 or newer ' +
        '(e.g. apt-get install openjdk-21-jre-headless) or set JAVA_HOME to one',
    );
    expect(line).not.toContain('\n');
  });

  it('says when there is no JDK at all, and when JAVA_HOME holds no Java', async () => {
    const missing = path.join(root, 'nowhere');
    const error = (await findRegistryJava({ env: { JAVA_HOME: missing }, jvmRoot: path.join(root, 'jvm') }).catch(
      (e: unknown) => e,
    )) as ProvisionError;
    expect(error.summary).toBe(
      `Apicurio Registry 3.3.3 needs Java 21+; looked at JAVA_HOME=${missing} (no Java there) and ${path.join(root, 'jvm')} (no JDK)`,
    );
  });
});

describe('releaseMajor', () => {
  it.each([
    ['25.0.3', 25],
    ['21', 21],
    ['17.0.15', 17],
    ['1.8.0_392', 8],
  ])('reads JAVA_VERSION="%s" as %p', (version, major) => {
    const home = jdk('x', version);
    expect(releaseMajor(path.join(home, 'release'))).toBe(major);
  });

  it('is undefined without a release file', () => {
    expect(releaseMajor(path.join(root, 'missing', 'release'))).toBeUndefined();
  });
});
