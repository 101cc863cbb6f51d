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
  stop(): Promise<void>;
}

const OUTPUT_KEEP_CHARS_MAX = 200_000;

/** Where service logs of a test run go (git ignores it), one file per process, to read after a failure. */
export const TEST_LOG_DIR = path.join(REPO_ROOT, 'artifacts', 'test-logs');

/**
 * Runs a service's main as its own OS process, so a test can kill it with SIGKILL mid-batch and restart it: a
 * main.ts from source as `npm start` does (ts-node, tsconfig-paths), a compiled main.js (`npm run build`) with plain
 * node as the image does.
 */
export function startServiceProcess(mainPath: string, env: Record<string, string>, name = 'service'): ServiceProcess {
  const main = path.resolve(REPO_ROOT, mainPath);
  const fromSource = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];
  const child = spawn(process.execPath, [...(main.endsWith('.js') ? [] : fromSource), main], {
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return { child, output: () => output, crash: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
