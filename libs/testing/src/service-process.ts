import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far; a failing test prints it. */
  output(): string;
  /** kill -9: no shutdown hook runs, no offset is committed on the way out. */
  crash(): Promise<void>;
  /** SIGTERM, and SIGKILL if the process has not exited after STOP_GRACE_MS (said in its output). */
  stop(): Promise<void>;
  /** Its exit code once it exited (null when a signal ended it). */
  exitCode(): Promise<number | null>;
}

/** How long a stopped service may take to shut down before it is killed, so no test's teardown hangs on one. */
const STOP_GRACE_MS = 20_000;

const OUTPUT_KEEP_CHARS_MAX = 200_000;

/** Where service logs of a test run go (git ignores it), one file per process, to read after a failure. */
export const TEST_LOG_DIR = path.join(REPO_ROOT, 'artifacts', 'test-logs');

/** Node's arguments that run a TypeScript file from source, as `npm start` does (ts-node, tsconfig-paths). */
export const FROM_SOURCE_NODE_ARGS: readonly string[] = [
  '-r',
  'ts-node/register/transpile-only',
  '-r',
  'tsconfig-paths/register',
];

/**
 * Runs a service's main as its own OS process, so a test can kill it with SIGKILL mid-batch and restart it: a
 * main.ts from source as `npm start` does (ts-node, tsconfig-paths), a compiled main.js (`npm run build`) with plain
 * node as the image does.
 */
export function startServiceProcess(mainPath: string, env: Record<string, string>, name = 'service'): ServiceProcess {
  const main = path.resolve(REPO_ROOT, mainPath);
  const child = spawn(process.execPath, [...(main.endsWith('.js') ? [] : FROM_SOURCE_NODE_ARGS), main], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  const logFile = createWriteStream(path.join(TEST_LOG_DIR, `${name}-${child.pid}.log`));
  let output = '';
  const keep = (chunk: Buffer) => {
    logFile.write(chunk);
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP_CHARS_MAX);
  };
  child.once('exit', () => logFile.end());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const crash = async () => {
    if (running()) child.kill('SIGKILL');
    await exited;
  };
  const stop = async () => {
    if (running()) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!running()) return;
      keep(Buffer.from(`\n[test] ${name} did not exit within ${STOP_GRACE_MS} ms of SIGTERM: SIGKILL\n`));
      child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  return { child, output: () => output, crash, stop, exitCode: () => exited };
}
