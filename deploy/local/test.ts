// `npm test`: the whole suite on a real broker and a real database. Type check, linter (ESLint) and
// formatter check (Prettier), then the unit tier, then the integration tier (jest's global setup
// brings up Kafka and PostgreSQL through libs/testing).
// Ends with one line "tributary: N passed, M failed" and a non-zero exit if anything failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKafkaInstalled, formatProvisionError, ProvisionError } from '@tributary/kafka-provisioner';

const ROOT = path.resolve(__dirname, '../..');
const RESULTS_DIR = path.join(ROOT, 'artifacts', 'test-results');
const say = (line: string) => process.stdout.write(`tributary: ${line}\n`);

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
  success: boolean;
}

function run(command: string, args: string[]): number {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

function jest(project: 'unit' | 'integration', extra: string[]): JestSummary {
  const outputFile = path.join(RESULTS_DIR, `${project}.json`);
  fs.rmSync(outputFile, { force: true });
  const args = [
    '--selectProjects',
    project,
    '--json',
    `--outputFile=${outputFile}`,
    '--ci',
    ...extra,
    ...process.argv.slice(2),
  ];
  run(path.join(ROOT, 'node_modules', '.bin', 'jest'), args);
  if (!fs.existsSync(outputFile)) {
    return {
      numPassedTests: 0,
      numFailedTests: 1,
      numTotalTestSuites: 0,
      numFailedTestSuites: 1,
      numRuntimeErrorTestSuites: 1,
      success: false,
    };
  }
  return JSON.parse(fs.readFileSync(outputFile, 'utf8')) as JestSummary;
}

async function main(): Promise<number> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  say('type check (tsc --noEmit)');
  const typecheckFailed =
    run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit']) !== 0;
  // The commands are the npm scripts, so `npm run lint` and `npm run format:check` reproduce a failure here.
  say('lint (npm run lint: ESLint, no warning allowed)');
  const lintFailed = run('npm', ['run', '--silent', 'lint']) !== 0;
  say('format check (npm run format:check: Prettier; `npm run format` rewrites)');
  const formatFailed = run('npm', ['run', '--silent', 'format:check']) !== 0;
  say('unit tests');
  const unit = jest('unit', []);
  say('integration tests (real Kafka broker, real PostgreSQL)');
  await ensureKafkaInstalled({ log: say });
  const integration = jest('integration', ['--runInBand']);
  const passed = unit.numPassedTests + integration.numPassedTests;
  const staticFailures = [typecheckFailed, lintFailed, formatFailed].filter(Boolean).length;
  const failed = unit.numFailedTests + integration.numFailedTests + staticFailures;
  const brokenSuites = unit.numRuntimeErrorTestSuites + integration.numRuntimeErrorTestSuites;
  if (typecheckFailed) say('the type check failed (counted as one failure)');
  if (lintFailed) say('the linter failed: npm run lint (counted as one failure)');
  if (formatFailed)
    say('the format check failed: npm run format:check, fix with npm run format (counted as one failure)');
  if (brokenSuites > 0) say(`${brokenSuites} test file(s) failed to run`);
  const ok = staticFailures === 0 && unit.success && integration.success;
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
