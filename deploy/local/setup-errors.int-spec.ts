// Proves that bad set-up fails loudly: `npm start`'s entry point, run with no Java, no Maven, a taken
// Kafka port or an unreachable database, exits non-zero with exactly one line saying what is missing
// and how to fix it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testBrokers } from '@tributary/testing';

const ROOT = path.resolve(__dirname, '../..');
const START = path.join(ROOT, 'deploy/local/start.ts');

function runStart(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const merged: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: undefined, JAVA_HOME: undefined, ...env };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', START],
      {
        cwd: ROOT,
        env: merged,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A PATH holding only the named programs, so the others are "not installed". */
function pathWith(programs: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-path-'));
  for (const program of programs) {
    const found = (process.env.PATH ?? '')
      .split(':')
      .map((entry) => path.join(entry, program))
      .find((candidate) => fs.existsSync(candidate));
    if (found) fs.symlinkSync(fs.realpathSync(found), path.join(dir, program));
  }
  return dir;
}

/** An empty cache, so no broker of an earlier run is adopted, optionally sharing the installed jars. */
function freshCache(withJars: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cache-'));
  if (withJars) fs.symlinkSync(path.join(ROOT, '.cache', 'kafka'), path.join(dir, 'kafka'));
  return dir;
}

const oneLine = (stderr: string) => stderr.trim().split('\n');

describe('npm start on a machine that is not set up', () => {
  it('says Java is missing and how to install it', async () => {
    const result = await runStart({ PATH: pathWith([]), TRIBUTARY_CACHE_DIR: freshCache(false) });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toEqual([
      expect.stringMatching(/^tributary: Java 17\+ not found on PATH: install a JDK 17/),
    ]);
  });

  it('says Maven is missing and how to install it', async () => {
    const result = await runStart({ PATH: pathWith(['java']), TRIBUTARY_CACHE_DIR: freshCache(false) });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toEqual([
      expect.stringMatching(/^tributary: Maven \(mvn\) not found on PATH.*: install Maven/),
    ]);
  });

  it('names the Kafka port that is taken', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const result = await runStart({ KAFKA_PORT: String(port), TRIBUTARY_CACHE_DIR: freshCache(true) });
      expect(result.code).toBe(1);
      expect(oneLine(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^tributary: .*port ${port}.*`))]);
    } finally {
      server.close();
    }
  });

  it('says when the Kafka that KAFKA_BROKERS names never answers', async () => {
    // A port nothing listens on: every connection is refused.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const result = await runStart({ KAFKA_BROKERS: `127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^tributary: Kafka at 127\\.0\\.0\\.1:${port} did not get ready \\(.+\\): check that KAFKA_BROKERS names running brokers$`,
        ),
      ),
    ]);
  }, 90_000);

  it('says the database is unreachable and how to fix it', async () => {
    const result = await runStart({
      KAFKA_BROKERS: testBrokers().join(','),
      DATABASE_URL: 'postgres://postgres@127.0.0.2:1/tributary',
    });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toEqual([
      'tributary: PostgreSQL is unreachable at 127.0.0.2:1: start it (Debian: pg_ctlcluster <version> main start) or point DATABASE_URL at a running server',
    ]);
  });
});
