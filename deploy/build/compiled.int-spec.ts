// Proves what the image runs without a Docker engine: `npm run build` compiles a main.js for every service, the
// compiled libs and services require nothing beyond package.json's "dependencies" and Node's builtins (the image
// installs no dev dependency), the files read at run time are found from the compiled tree, and one compiled service
// (the gateway) started with plain node, no ts-node and no tsconfig-paths, reaches ready on the real broker and
// database as the image's own health check sees it.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { compiledMain, LOCAL_SERVICES } from '../local/src/services';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
/** An incremental build of an unchanged tree takes seconds; a full one about a minute on a busy 2-core machine. */
const BUILD_TIME_MAX_MS = 240_000;
const HEALTHCHECK = path.join(DIST, 'libs', 'observability', 'src', 'healthcheck.js');

const run = promisify(execFile);

/**
 * The .js files the build emits, relative to dist/: one per source file tsconfig.build.json compiles. Read from the
 * config rather than by listing dist/, so output left there by an older build or a deleted source is not judged.
 */
function emittedFiles(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.build.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.build.json: not readable');
  return config.fileNames
    .filter((file) => !file.endsWith('.d.ts'))
    .map((file) => path.relative(ROOT, file).replace(/\.ts$/, '.js'));
}

/** The package a bare module id names (`@scope/name/deep` -> `@scope/name`), or null for a relative or absolute path. */
function packageOf(id: string): string | null {
  if (id.startsWith('.') || id.startsWith('/')) return null;
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The literal module ids tsc emitted as require("..."): imports that only carry types are gone by then. */
function requiredIds(source: string): string[] {
  return [...source.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]!);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs the image's health check with plain node against HEALTH_PORT, as Docker would: its exit code. */
function healthcheck(port: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HEALTHCHECK], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HEALTH_PORT: String(port) },
      stdio: 'ignore',
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

describe('the compiled services (npm run build)', () => {
  beforeAll(async () => {
    await run('npm', ['run', '--silent', 'build'], { cwd: ROOT, timeout: BUILD_TIME_MAX_MS });
  }, BUILD_TIME_MAX_MS + 10_000);

  it('has a main.js for every service the image runs, and for every folder in services/', () => {
    const folders = readdirSync(path.join(ROOT, 'services'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `services/${entry.name}/src/main.ts`);
    const mains = [...new Set([...LOCAL_SERVICES.map((service) => service.main), ...folders])];
    const missing = mains.map((main) => compiledMain({ main })).filter((file) => !existsSync(path.join(ROOT, file)));
    expect(missing).toEqual([]);
    expect(existsSync(HEALTHCHECK)).toBe(true);
  });

  it('requires only Node builtins and the packages in package.json\'s "dependencies"', () => {
    const { dependencies } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const allowed = new Set([...Object.keys(dependencies), ...builtinModules]);
    const files = emittedFiles();
    // The whole tree is there, and was emitted: the services' mains and a library none of them reaches but the CLIs.
    expect(files).toEqual(expect.arrayContaining(['services/gateway/src/main.js', 'libs/simulator/src/index.js']));
    expect(files.filter((file) => !existsSync(path.join(DIST, file)))).toEqual([]);
    expect(files.filter((file) => !/^(libs|services)\//.test(file) || /\.(int-|e2e-)?spec\.js$/.test(file))).toEqual(
      [],
    );
    const outside = files.flatMap((file) =>
      requiredIds(readFileSync(path.join(DIST, file), 'utf8'))
        .map((id) => ({ id, name: packageOf(id) }))
        .filter(({ id, name }) => name !== null && !id.startsWith('node:') && !allowed.has(name))
        .map(({ id }) => `${file} requires ${id}`),
    );
    // An @tributary/* id here means tsc-alias left a path alias that plain node cannot resolve.
    expect(outside).toEqual([]);
  });

  it('requires by relative path only files the image copies: the compiled libs and services', () => {
    const shipped = [path.join(DIST, 'libs') + path.sep, path.join(DIST, 'services') + path.sep];
    const unresolved = emittedFiles().flatMap((file) =>
      requiredIds(readFileSync(path.join(DIST, file), 'utf8'))
        .filter((id) => packageOf(id) === null)
        .filter((id) => {
          const target = path.resolve(path.dirname(path.join(DIST, file)), id);
          const resolved = [target, `${target}.js`, path.join(target, 'index.js')].find(
            (candidate) => existsSync(candidate) && candidate.endsWith('.js'),
          );
          return resolved === undefined || !shipped.some((folder) => resolved.startsWith(folder));
        })
        .map((id) => `${file} requires ${id}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('finds the files it reads at run time from the compiled tree: the repository root and the dashboard', async () => {
    const script = [
      `const { projectRoot } = require('./dist/libs/config/src');`,
      `const { DASHBOARD_DIR } = require('./dist/services/ledger-api/src/app');`,
      `process.stdout.write(JSON.stringify({ root: projectRoot(), dashboard: DASHBOARD_DIR }));`,
    ].join('\n');
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT, timeout: 60_000 });
    const found = JSON.parse(stdout) as { root: string; dashboard: string };
    expect(found.root).toBe(ROOT);
    expect(existsSync(path.join(found.dashboard, 'index.html'))).toBe(true);
  });

  describe('the gateway, started with plain node', () => {
    const prefix = `${uniqueName('compiled')}.`;
    let database: TestDatabase;
    let gateway: ServiceProcess | undefined;
    let port: number;

    beforeAll(async () => {
      await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
      database = await createTestDatabase('compiled');
      port = await freePort();
    });

    afterAll(async () => {
      await gateway?.stop();
      await database?.drop();
    });

    it('answers ready on /health/ready, as the image health check asks it, and stops on SIGTERM', async () => {
      // Not ready before anything listens: the check fails rather than hangs.
      expect(await healthcheck(port)).toBe(1);
      gateway = startServiceProcess(
        compiledMain(LOCAL_SERVICES.find((service) => service.name === 'gateway')!),
        {
          KAFKA_BROKERS: testBrokers().join(','),
          DATABASE_URL: database.url,
          TRIBUTARY_TOPIC_PREFIX: prefix,
          GATEWAY_HTTP_PORT: String(port),
          GATEWAY_INSTANCE_ID: uniqueName('compiled'),
        },
        'gateway-compiled',
      );
      const started = gateway;
      expect(started.child.spawnargs.slice(1)).toEqual([path.join(ROOT, 'dist/services/gateway/src/main.js')]);
      await eventually(async () => {
        expect(started.child.exitCode).toBeNull();
        expect(await healthcheck(port)).toBe(0);
      }, 120_000);
      expect(started.output()).toContain('gateway ready at');
      // The OpenAPI document is built at start-up; its UI's assets come from a production dependency.
      const docs = await fetch(`http://127.0.0.1:${port}/docs/openapi.json`);
      expect(docs.status).toBe(200);
      await started.stop();
      expect(started.child.exitCode ?? started.child.signalCode).not.toBeNull();
    });
  });
});
