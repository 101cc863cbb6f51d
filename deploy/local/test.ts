// `npm test`: the whole suite on a real broker and a real database, on every supported Node. Type check,
// linter (ESLint) and formatter check (Prettier) once; the unit tier on the machine's Node and on the
// pinned Node 22 and 24 LTS (deploy/node); then the integration tier on Node 24, the runtime the image
// ships (jest's global setup brings up Kafka and PostgreSQL through libs/testing).
// Ends with one line "tributary: N passed, M failed" over everything and a non-zero exit if anything failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKafkaInstalled, formatProvisionError, ProvisionError } from '@tributary/kafka-provisioner';
import {
  PINNED_NODE_LINES,
  pinnedNode,
  pinnedNodeEnv,
  pinnedNodeVersion,
  type PinnedNodeLine,
} from '../node/pinned-node';

const ROOT = path.resolve(__dirname, '../..');
const RESULTS_DIR = path.join(ROOT, 'artifacts', 'test-results');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const BIGINT_JSON = path.join(__dirname, 'jest-bigint-json.js');
const say = (line: string) => process.stdout.write(`tributary: ${line}\n`);

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
  success: boolean;
}

/** A Node to run jest on: the binary, the environment its child processes inherit, and a label. */
interface Runtime {
  node: string;
  env: NodeJS.ProcessEnv;
  label: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  return result.status ?? 1;
}

/**
 * Runs one jest project on one Node. The test files spawn services and CLIs with process.execPath, and
 * the runtime's bin folder is first in PATH, so every child process runs on the same Node as jest.
 */
function jest(project: 'unit' | 'integration', runtime: Runtime, extra: string[]): JestSummary {
  const major = runtime.label.split('.')[0];
  const outputFile = path.join(RESULTS_DIR, `${project}-node${major}.json`);
  fs.rmSync(outputFile, { force: true });
  const args = [
    '-r',
    BIGINT_JSON,
    JEST,
    '--selectProjects',
    project,
    '--json',
    `--outputFile=${outputFile}`,
    '--ci',
    ...extra,
  ];
  const startedAt = Date.now();
  run(runtime.node, [...args, ...process.argv.slice(2)], runtime.env);
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  const summary: JestSummary = fs.existsSync(outputFile)
    ? (JSON.parse(fs.readFileSync(outputFile, 'utf8')) as JestSummary)
    : {
        numPassedTests: 0,
        numFailedTests: 1,
        numTotalTestSuites: 0,
        numFailedTestSuites: 1,
        numRuntimeErrorTestSuites: 1,
        success: false,
      };
  say(
    `${project} tier on Node ${runtime.label}: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed ` +
      `in ${seconds} s`,
  );
  return summary;
}

async function main(): Promise<number> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const machine: Runtime = {
    node: process.execPath,
    env: process.env,
    label: `${process.versions.node} (this machine's)`,
  };
  const pinned = (line: PinnedNodeLine): Runtime => {
    const node = pinnedNode(line);
    return { node: node.binary, env: pinnedNodeEnv(node), label: `${pinnedNodeVersion(node)} (pinned, deploy/node)` };
  };
  const node24 = pinned('24');
  say('type check (tsc --noEmit)');
  const typecheckFailed =
    run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit']) !== 0;
  // The commands are the npm scripts, so `npm run lint` and `npm run format:check` reproduce a failure here.
  say('lint (npm run lint: ESLint, no warning allowed)');
  const lintFailed = run('npm', ['run', '--silent', 'lint']) !== 0;
  say('format check (npm run format:check: Prettier; `npm run format` rewrites)');
  const formatFailed = run('npm', ['run', '--silent', 'format:check']) !== 0;
  const runs: JestSummary[] = [];
  // A pinned line the machine's own Node already belongs to would only repeat the same run.
  const machineLine = process.versions.node.split('.')[0];
  const otherLines = PINNED_NODE_LINES.filter((line) => line !== machineLine);
  for (const runtime of [machine, ...otherLines.map(pinned)]) {
    say(`unit tests on Node ${runtime.label}`);
    runs.push(jest('unit', runtime, []));
  }
  // The integration tier runs once, on Node 24: twice would not fit the suite's half hour (README, Tests).
  say(`integration tests on Node ${node24.label} (real Kafka broker, real PostgreSQL)`);
  await ensureKafkaInstalled({ log: say });
  runs.push(jest('integration', node24, ['--runInBand']));
  const passed = runs.reduce((sum, summary) => sum + summary.numPassedTests, 0);
  const staticFailures = [typecheckFailed, lintFailed, formatFailed].filter(Boolean).length;
  const failed = runs.reduce((sum, summary) => sum + summary.numFailedTests, staticFailures);
  const brokenSuites = runs.reduce((sum, summary) => sum + summary.numRuntimeErrorTestSuites, 0);
  if (typecheckFailed) say('the type check failed (counted as one failure)');
  if (lintFailed) say('the linter failed: npm run lint (counted as one failure)');
  if (formatFailed)
    say('the format check failed: npm run format:check, fix with npm run format (counted as one failure)');
  if (brokenSuites > 0) say(`${brokenSuites} test file(s) failed to run`);
  const ok = staticFailures === 0 && runs.every((summary) => summary.success);
  process.stdout.write(`tributary: ${passed} passed, ${failed + (ok || failed > 0 ? 0 : 1)} failed\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      error instanceof ProvisionError ? `${formatProvisionError(error)}\n` : `tributary: ${(error as Error).stack}\n`,
    );
    process.exit(1);
  },
);
