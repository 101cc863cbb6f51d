// Proves docker-compose.yml is a valid Compose file that keeps Tributary's own rules, without a Docker engine: it parses the file with `yaml`, validates it with ajv against the Compose Specification schema shipped in the dclint package, and checks each service block.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { KAFKA_VERSION } from '../kafka/src/version';

const ROOT = join(__dirname, '..', '..');
const INFRASTRUCTURE = ['kafka', 'postgres'];

type Service = Record<string, unknown> & {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  ports?: unknown[];
  restart?: string;
  deploy?: { resources?: { limits?: { cpus?: unknown; memory?: unknown } } };
};
type ComposeFile = { services: Record<string, Service>; volumes?: Record<string, unknown> };

/** The file as Compose reads it: YAML 1.2 plus merge keys (`<<: *anchor`), which the file relies on. */
function loadCompose(): ComposeFile {
  return parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
}

/**
 * The Compose Specification's JSON schema (compose-spec/compose-spec, schema/compose-spec.json) as the
 * dclint devDependency ships it in schemas/compose.schema.json. Its exports map exposes package.json,
 * so the schema is found beside it rather than imported.
 */
function composeSchemaValidator(): ValidateFunction {
  let packageJson: string;
  try {
    packageJson = require.resolve('dclint/package.json');
  } catch {
    throw new Error('the Compose Specification schema comes from the dclint devDependency: run `npm install`');
  }
  const schema = JSON.parse(readFileSync(join(dirname(packageJson), 'schemas', 'compose.schema.json'), 'utf8'));
  // The schema declares draft-07 by a URL ajv does not register; its keywords are plain draft-07.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** A value as Compose would see it with no variables set: `${NAME:-default}` becomes default. */
function withDefaults(value: string): string {
  return value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) => fallback ?? '');
}

function env(service: Service): Record<string, string> {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => [line.split('=')[0] ?? '', line.split('=').slice(1).join('=')])
    : Object.entries(raw).map(([key, value]) => [key, String(value)]);
  return Object.fromEntries(entries.map(([key, value]) => [key, withDefaults(value ?? '')]));
}

function command(service: Service): string[] {
  const raw = service.command ?? [];
  return Array.isArray(raw) ? raw : raw.split(/\s+/);
}

/** Tributary's own services: every one that is not infrastructure, built from ./Dockerfile. */
function tributaryServices(compose: ComposeFile): [string, Service][] {
  return Object.entries(compose.services).filter(([name]) => !INFRASTRUCTURE.includes(name));
}

describe('docker-compose.yml against the Compose Specification schema', () => {
  const validate = composeSchemaValidator();

  it('is valid', () => {
    const valid = validate(loadCompose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('rejects a file with a misspelt service key (the schema is really applied)', () => {
    const broken = loadCompose();
    broken.services['ledger-projector'] = { ...broken.services['ledger-projector'], helthcheck: {} };
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('helthcheck');
  });
});

describe('docker-compose.yml project rules', () => {
  const compose = loadCompose();
  const services = Object.entries(compose.services);

  it('runs Kafka, PostgreSQL and at least one Tributary service', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(INFRASTRUCTURE));
    expect(tributaryServices(compose).length).toBeGreaterThan(0);
  });

  it.each(services)('%s pins its image to a tag that is not latest', (_name, service) => {
    const image = withDefaults(service.image ?? '');
    const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
    expect(tag).toBeDefined();
    expect(tag).not.toBe('latest');
  });

  it.each(services)('%s has a healthcheck and resource limits', (_name, service) => {
    expect(service.healthcheck?.test).toBeDefined();
    expect(service.healthcheck?.disable).not.toBe(true);
    expect(service.deploy?.resources?.limits?.cpus).toBeDefined();
    expect(service.deploy?.resources?.limits?.memory).toBeDefined();
  });

  it('runs the same Kafka release as the local broker deploy/kafka provisions', () => {
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
  });

  it('configures a single-node KRaft broker that never creates topics on its own', () => {
    const kafka = env(compose.services.kafka as Service);
    expect(kafka).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: `${kafka.KAFKA_NODE_ID}@kafka:9093`,
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    });
    // 16 bytes in base64url, as `kafka-storage.sh format` requires.
    expect(Buffer.from(kafka.CLUSTER_ID ?? '', 'base64url')).toHaveLength(16);
  });

  it('keeps PostgreSQL data in a named volume and checks readiness with pg_isready', () => {
    const postgres = compose.services.postgres as Service;
    expect(withDefaults(postgres.image ?? '')).toMatch(/^postgres:15[.-]/);
    expect(env(postgres).POSTGRES_DB).toBe('tributary');
    expect(JSON.stringify(postgres.healthcheck?.test)).toContain('pg_isready');
    const volume = String((postgres.volumes as string[])[0]).split(':')[0] ?? '';
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
  });

  describe.each(tributaryServices(compose))('%s', (name, service) => {
    const serviceEnv = env(service);

    it('is a folder in services/ and runs its main.ts', () => {
      const folder = join(ROOT, 'services', name);
      expect(existsSync(folder) && statSync(folder).isDirectory()).toBe(true);
      expect(command(service)).toEqual([`services/${name}/src/main.ts`]);
      expect(existsSync(join(folder, 'src', 'main.ts'))).toBe(true);
    });

    it('is built from the repository Dockerfile', () => {
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    });

    it('starts only once Kafka and PostgreSQL are healthy, and restarts unless stopped', () => {
      expect(service.depends_on).toMatchObject({
        kafka: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
      });
      expect(service.restart).toBe('unless-stopped');
    });

    it('reaches Kafka on the inside listener and PostgreSQL by its service name', () => {
      const advertised = env(compose.services.kafka as Service).KAFKA_ADVERTISED_LISTENERS ?? '';
      expect(advertised.split(',')).toContain(`INTERNAL://${serviceEnv.KAFKA_BROKERS}`);
      expect(serviceEnv.KAFKA_REPLICATION_FACTOR).toBe('1');
      expect(serviceEnv.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\/tributary$/);
    });

    it('listens on every interface and health-checks /health/ready on its own port', () => {
      expect(serviceEnv.HTTP_HOST).toBe('0.0.0.0');
      const portVariable = `${name.toUpperCase().replace(/-/g, '_')}_HTTP_PORT`;
      expect(serviceEnv[portVariable]).toMatch(/^\d+$/);
      expect(serviceEnv.HEALTH_PORT).toBe(serviceEnv[portVariable]);
      expect(JSON.stringify(service.healthcheck?.test)).toContain('/health/ready');
      expect(service.ports?.map(String)).toContainEqual(expect.stringMatching(new RegExp(`:${serviceEnv.HEALTH_PORT}$`)));
    });
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('builds every stage from a pinned node:20-bookworm-slim base', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    expect(bases.every((base) => base === '${NODE_IMAGE}')).toBe(true);
  });

  it('keeps local dependencies, caches, build output and git history out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.cache', 'artifacts', 'dist', '.git']));
  });
});
