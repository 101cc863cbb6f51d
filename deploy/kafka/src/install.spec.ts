// Proves set-up problems become ProvisionErrors with a one-line message and hint, by feeding version strings, Maven output and a missing JAVA_HOME.
import { ProvisionError, formatProvisionError } from './errors';
import { ensureKafkaInstalled, firstMavenError, parseJavaMajor } from './install';

describe('parseJavaMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_392"', 8],
    ['no java here', undefined],
  ])('reads %p as %p', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });
});

describe('firstMavenError', () => {
  it('keeps the first [ERROR] line without colour codes', () => {
    const output = 'noise\n\u001b[1;31m[ERROR]\u001b[m Failed to execute goal on project x\n[ERROR] more';
    expect(firstMavenError(output)).toBe('Failed to execute goal on project x');
  });
});

describe('ensureKafkaInstalled', () => {
  const javaHomeBefore = process.env.JAVA_HOME;
  afterEach(() => {
    if (javaHomeBefore === undefined) delete process.env.JAVA_HOME;
    else process.env.JAVA_HOME = javaHomeBefore;
  });

  it('fails with one line naming Java and how to install it when JAVA_HOME points nowhere', async () => {
    process.env.JAVA_HOME = '/nonexistent/jdk';
    const error: unknown = await ensureKafkaInstalled().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProvisionError);
    const line = formatProvisionError(error as ProvisionError);
    expect(line).toBe(
      'tributary: Java 17+ not found at /nonexistent/jdk/bin/java (from JAVA_HOME): ' +
        'install a JDK 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME to one',
    );
  });
});
