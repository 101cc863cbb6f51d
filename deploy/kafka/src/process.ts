import { type StdioOptions, spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Output kept per stream; a chatty tool must not grow our memory without bound.
const CAPTURE_CHARS_MAX = 4 * 1024 * 1024;

/** Runs a command to completion. Rejects only when it cannot start (ENOENT etc.), never on exit code. */
export function runCommand(
  command: string,
  args: string[],
  opts: { stdio?: 'inherit' | 'pipe'; env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<CommandResult> {
  const stdio = opts.stdio ?? 'pipe';
  return new Promise((resolve, reject) => {
    // Captured runs get no stdin unless given one: a tool that reads it (kafka-console-producer) sees
    // EOF, not a hang. Secrets travel on stdin, never in arguments another process could list.
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const stdioConfig: StdioOptions = stdio === 'pipe' ? [stdin, 'pipe', 'pipe'] : 'inherit';
    const child = spawn(command, args, { stdio: stdioConfig, env: opts.env ?? process.env, cwd: opts.cwd });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout = appendBounded(stdout, chunk)));
    child.stderr?.on('data', (chunk: Buffer) => (stderr = appendBounded(stderr, chunk)));
    child.on('error', reject);
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) =>
      resolve({ code: code ?? signalExitCode(signal), stdout, stderr }),
    );
  });
}

function appendBounded(text: string, chunk: Buffer): string {
  return text.length >= CAPTURE_CHARS_MAX ? text : text + chunk.toString('utf8');
}

// Shell convention: 128 + signal number; 1 when the signal is unknown.
function signalExitCode(signal: NodeJS.Signals | null): number {
  const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signal ? 128 + (signalNumbers[signal] ?? 0) : 1;
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** True while the process exists and is not a zombie (a zombie still answers kill(pid, 0)). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all we have
  }
}

/** The command line of a live process, or undefined where /proc is not available. */
export function processCommandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

export function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

/** The last lines of a file, for error messages; empty when it does not exist. */
export function tailFile(file: string, lineCount: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lineCount).join('\n');
  } catch {
    return '';
  }
}
