// Proves docker-compose.yml is a valid Compose file that keeps Tributary's own rules, without a Docker engine: it
// parses the file with `yaml`, validates it with ajv against the Compose Specification schema shipped in the dclint
// package, and checks each service block and the secured broker's files in deploy/compose/kafka.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { OPERATOR_PRINCIPAL, SERVICE_PRINCIPALS } from '@tributary/contracts';
import { brokerLayout, renderServerProperties } from '../kafka/src/config';
import { BROKER_CERTIFICATE_CN } from '../kafka/src/tls';
import { KAFKA_VERSION } from '../kafka/src/version';
import { DATABASE_ACCESS, type DatabaseService } from '@tributary/persistence';
import { compiledMain } from '../local/src/services';
import { REGISTRY_IMAGE } from '../registry/src/version';
import { SETUP_SCRIPT_PATH, renderSetupScript } from './kafka/setup';

const ROOT = join(__dirname, '..', '..');
const KAFKA_DIR = join(__dirname, 'kafka');
/** The containers that run once and exit: the broker's secrets before it starts, its topics and ACLs after. */
const ONE_SHOT = ['kafka-init', 'kafka-setup'];
/** The schema registry, and the one-shot that makes its database and role first. */
const REGISTRY = ['registry-db', 'registry'];
const INFRASTRUCTURE = ['kafka', 'postgres', ...ONE_SHOT, ...REGISTRY];
/** The image's health check (Dockerfile HEALTHCHECK), which every service block of compose repeats. */
const IMAGE_HEALTHCHECK = ['CMD', 'node', '/app/dist/libs/observability/src/healthcheck.js'];
/** Where kafka-client-secrets is mounted in a service: the CA certificate and the services' passwords. */
const CLIENT_SECRETS_DIR = '/etc/tributary/kafka';

type Service = Record<string, unknown> & {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  volumes?: string[];
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  ports?: unknown[];
  restart?: string;
  deploy?: { resources?: { limits?: { cpus?: unknown; memory?: unknown } } };
};
type ComposeFile = {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
};

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
  return value.replace(
    /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g,
    (_match, fallback: string | undefined) => fallback ?? '',
  );
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

/** A Java properties file as the broker reads it: comments and blank lines dropped, the first `=` separates. */
function parseProperties(text: string): Map<string, string> {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** The compose broker's configuration, as broker.sh hands it to Kafka (less the keystore password it appends). */
function brokerProperties(): Map<string, string> {
  return parseProperties(readFileSync(join(KAFKA_DIR, 'server.properties'), 'utf8'));
}

/** `NAME://host:port,...` as [name, host, port] triples. */
function listenerAddresses(value: string | undefined): Array<[string, string, string]> {
  return (value ?? '').split(',').map((entry) => {
    const match = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(entry);
    if (!match) throw new Error(`not a listener: ${entry}`);
    return [match[1]!, match[2]!, match[3]!];
  });
}

function volumeMounts(service: Service): Array<{ source: string; target: string; readOnly: boolean }> {
  return (service.volumes ?? []).map((volume) => {
    const [source = '', target = '', mode = ''] = String(volume).split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
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

  it.each(services)('%s has resource limits', (_name, service) => {
    expect(service.deploy?.resources?.limits?.cpus).toBeDefined();
    expect(service.deploy?.resources?.limits?.memory).toBeDefined();
  });

  it.each(services.filter(([name]) => ![...ONE_SHOT, 'registry-db'].includes(name)))(
    '%s has a healthcheck',
    (_name, service) => {
      expect(service.healthcheck?.test).toBeDefined();
      expect(service.healthcheck?.disable).not.toBe(true);
    },
  );

  it.each([...ONE_SHOT, 'registry-db'])('%s runs once, and what needs it waits until it has succeeded', (name) => {
    expect(compose.services[name]?.restart).toBe('no');
    const waiting = services.filter(([, service]) => {
      const dependsOn = service.depends_on as Record<string, { condition?: string }> | undefined;
      return dependsOn?.[name]?.condition === 'service_completed_successfully';
    });
    expect(waiting.length).toBeGreaterThan(0);
  });

  it('runs the same Kafka release as the local broker deploy/kafka provisions, in each Kafka container', () => {
    for (const name of ['kafka', ...ONE_SHOT]) {
      expect(compose.services[name]?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    }
  });

  it('configures a single-node KRaft broker that never creates topics on its own', () => {
    const properties = brokerProperties();
    expect(Object.fromEntries(properties)).toMatchObject({
      'process.roles': 'broker,controller',
      'controller.quorum.voters': `${properties.get('node.id')}@kafka:9093`,
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'auto.create.topics.enable': 'false',
      'group.initial.rebalance.delay.ms': '0',
      'log.dirs': '/var/lib/kafka/data',
    });
    // 16 bytes in base64url, as `kafka-storage.sh format` requires.
    expect(Buffer.from(env(compose.services.kafka as Service).CLUSTER_ID ?? '', 'base64url')).toHaveLength(16);
  });

  it('keeps PostgreSQL data in a named volume and checks readiness with pg_isready', () => {
    const postgres = compose.services.postgres as Service;
    expect(withDefaults(postgres.image ?? '')).toMatch(/^postgres:15[.-]/);
    expect(env(postgres).POSTGRES_DB).toBe('tributary');
    expect(JSON.stringify(postgres.healthcheck?.test)).toContain('pg_isready');
    const volume = String((postgres.volumes as string[])[0]).split(':')[0] ?? '';
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
  });

  it('runs the Apicurio Registry release deploy/registry provisions, its data in PostgreSQL as a role of its own', () => {
    const registry = compose.services.registry as Service;
    expect(registry.image).toBe(REGISTRY_IMAGE);
    const registryEnv = env(registry);
    expect(registryEnv).toMatchObject({
      APICURIO_STORAGE_KIND: 'sql',
      APICURIO_STORAGE_SQL_KIND: 'postgresql',
      APICURIO_DATASOURCE_USERNAME: 'tributary_registry',
    });
    expect(registryEnv.APICURIO_DATASOURCE_URL).toBe(
      'jdbc:postgresql://postgres:5432/tributary_registry?currentSchema=registry',
    );
    // Its own password, which registry-db sets on its role; never the owner's.
    expect(registryEnv.APICURIO_DATASOURCE_PASSWORD).toBe(
      env(compose.services['registry-db'] as Service).REGISTRY_DB_PASSWORD,
    );
    expect(registryEnv.APICURIO_DATASOURCE_PASSWORD).not.toBe(
      env(compose.services.postgres as Service).POSTGRES_PASSWORD,
    );
    expect(registry.depends_on).toMatchObject({ 'registry-db': { condition: 'service_completed_successfully' } });
    expect(registry.ports).toEqual(['127.0.0.1:8081:8080']);
    const script = readFileSync(join(__dirname, 'registry', 'registry-db.sh'), 'utf8');
    expect(script).toContain('NOSUPERUSER NOCREATEDB NOCREATEROLE');
    expect(script).toContain('CREATE SCHEMA IF NOT EXISTS registry AUTHORIZATION tributary_registry');
  });

  describe.each(tributaryServices(compose))('%s', (name, service) => {
    const serviceEnv = env(service);

    it('is a folder in services/ and runs its compiled main.js with node', () => {
      const folder = join(ROOT, 'services', name);
      expect(existsSync(folder) && statSync(folder).isDirectory()).toBe(true);
      expect(existsSync(join(folder, 'src', 'main.ts'))).toBe(true);
      expect(command(service)).toEqual(['node', compiledMain({ main: `services/${name}/src/main.ts` })]);
    });

    it('is built from the repository Dockerfile', () => {
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    });

    it('starts once Kafka, PostgreSQL and the schema registry are healthy and kafka-setup has succeeded; restarts unless stopped', () => {
      expect(service.depends_on).toMatchObject({
        kafka: { condition: 'service_healthy' },
        'kafka-setup': { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        registry: { condition: 'service_healthy' },
      });
      expect(service.restart).toBe('unless-stopped');
    });

    it("reaches Kafka on the containers' listener and PostgreSQL by its service name", () => {
      const advertised = brokerProperties().get('advertised.listeners')?.split(',');
      expect(advertised).toContain(`CLIENT://${serviceEnv.KAFKA_BROKERS}`);
      expect(serviceEnv.KAFKA_REPLICATION_FACTOR).toBe('1');
      expect(serviceEnv.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\/tributary$/);
      expect(serviceEnv.SCHEMA_REGISTRY_URL).toBe('http://registry:8080/apis/ccompat/v7');
    });

    it("sets its database role's password, which the compose PostgreSQL asks for", () => {
      const { variables } = DATABASE_ACCESS[name as DatabaseService];
      expect(serviceEnv[variables.password]).toMatch(/^tributary-[a-z-]+$/);
    });

    it('authenticates to Kafka as its own principal, with files from the read-only client secrets', () => {
      expect(serviceEnv.KAFKA_SECURITY).toBe('sasl_ssl');
      expect(serviceEnv.KAFKA_USERNAME).toBe(name);
      expect(SERVICE_PRINCIPALS).toContain(serviceEnv.KAFKA_USERNAME);
      expect(serviceEnv.KAFKA_PASSWORD).toBeUndefined();
      expect(serviceEnv.KAFKA_PASSWORD_FILE).toBe(`${CLIENT_SECRETS_DIR}/${name}.password`);
      expect(serviceEnv.KAFKA_CA_FILE).toBe(`${CLIENT_SECRETS_DIR}/ca.crt`);
      const mounts = volumeMounts(service);
      expect(mounts).toContainEqual({ source: 'kafka-client-secrets', target: CLIENT_SECRETS_DIR, readOnly: true });
      // The broker's key, its keystore password and the operator's password stay out of every service.
      expect(mounts.map((mount) => mount.source)).not.toContain('kafka-secrets');
    });

    it('listens on every interface and health-checks /health/ready on its own port', () => {
      expect(serviceEnv.HTTP_HOST).toBe('0.0.0.0');
      const portVariable = `${name.toUpperCase().replace(/-/g, '_')}_HTTP_PORT`;
      expect(serviceEnv[portVariable]).toMatch(/^\d+$/);
      expect(serviceEnv.HEALTH_PORT).toBe(serviceEnv[portVariable]);
      // The image's check, which asks /health/ready on HEALTH_PORT (libs/observability/src/healthcheck.ts).
      expect(service.healthcheck?.test).toEqual(IMAGE_HEALTHCHECK);
      expect(service.ports?.map(String)).toContainEqual(
        expect.stringMatching(new RegExp(`:${serviceEnv.HEALTH_PORT}$`)),
      );
    });
  });
});

describe('docker-compose.yml Kafka security', () => {
  const compose = loadCompose();
  const services = Object.entries(compose.services);
  const properties = brokerProperties();

  it('never runs a container without security (no plaintext KAFKA_SECURITY)', () => {
    for (const [, service] of services) expect(env(service).KAFKA_SECURITY ?? 'sasl_ssl').toBe('sasl_ssl');
  });

  it('gives each Tributary service a principal of its own', () => {
    const usernames = tributaryServices(compose).map(([, service]) => env(service).KAFKA_USERNAME);
    expect(new Set(usernames).size).toBe(usernames.length);
    expect(usernames).not.toContain(OPERATOR_PRINCIPAL);
  });

  it("makes passwords and SCRAM credentials for exactly the access catalog's principals", () => {
    const principals = compose['x-kafka-principals'] as Record<string, string>;
    expect(principals.KAFKA_OPERATOR_PRINCIPAL).toBe(OPERATOR_PRINCIPAL);
    expect(principals.KAFKA_SERVICE_PRINCIPALS?.split(/\s+/).sort()).toEqual([...SERVICE_PRINCIPALS].sort());
    for (const name of ['kafka-init', 'kafka']) {
      expect(env(compose.services[name] as Service)).toMatchObject(principals);
    }
  });

  it("listens only with TLS: SASL/SCRAM-SHA-512 for clients, client certificates for the brokers' listeners", () => {
    const pairs = (properties.get('listener.security.protocol.map') ?? '').split(',').map((pair) => pair.split(':'));
    const protocols = new Map(pairs as Array<[string, string]>);
    const listeners = listenerAddresses(properties.get('listeners')).map(([listener]) => listener);
    expect(listeners.sort()).toEqual(['CLIENT', 'CONTROLLER', 'HOST', 'INTERNAL']);
    for (const listener of listeners) {
      const prefix = `listener.name.${listener.toLowerCase()}`;
      if (protocols.get(listener) === 'SASL_SSL') {
        expect(properties.get(`${prefix}.sasl.enabled.mechanisms`)).toBe('SCRAM-SHA-512');
      } else {
        expect(protocols.get(listener)).toBe('SSL');
        expect(properties.get(`${prefix}.ssl.client.auth`)).toBe('required');
      }
    }
    expect(protocols.get(properties.get('inter.broker.listener.name') ?? '')).toBe('SSL');
    expect(protocols.get(properties.get('controller.listener.names') ?? '')).toBe('SSL');
    expect(protocols.get('CLIENT')).toBe('SASL_SSL');
    expect(protocols.get('HOST')).toBe('SASL_SSL');
  });

  it("authorizes like deploy/kafka's secured broker: ACLs only, the operator and the broker as super users", () => {
    const security = {
      caCertificate: '/ca.crt',
      brokerKeystore: '/broker.p12',
      keystorePassword: 'x',
      superUsers: [OPERATOR_PRINCIPAL, BROKER_CERTIFICATE_CN],
    };
    const local = parseProperties(renderServerProperties(brokerLayout(9092, '/data'), security));
    const same = [
      'authorizer.class.name',
      'allow.everyone.if.no.acl.found',
      'super.users',
      'ssl.principal.mapping.rules',
      'ssl.keystore.type',
      'ssl.truststore.type',
      'controller.listener.names',
      'inter.broker.listener.name',
      'listener.name.client.sasl.enabled.mechanisms',
      'listener.name.client.scram-sha-512.sasl.jaas.config',
      'listener.name.internal.ssl.client.auth',
      'listener.name.controller.ssl.client.auth',
    ];
    for (const key of same) expect([key, properties.get(key)]).toEqual([key, local.get(key)]);
    // The host's listener authenticates as the containers' does.
    for (const key of ['sasl.enabled.mechanisms', 'scram-sha-512.sasl.jaas.config']) {
      expect(properties.get(`listener.name.host.${key}`)).toBe(local.get(`listener.name.client.${key}`));
    }
    expect(properties.get('allow.everyone.if.no.acl.found')).toBe('false');
  });

  it('keeps secrets out of the repository: broker.sh appends the keystore password from the secrets volume', () => {
    expect(properties.has('ssl.keystore.password')).toBe(false);
    expect(readFileSync(join(KAFKA_DIR, 'broker.sh'), 'utf8')).toContain('ssl.keystore.password=');
    expect(properties.get('ssl.keystore.location')).toMatch(/^\/etc\/kafka\/secrets\//);
    expect(properties.get('ssl.truststore.location')).toMatch(/^\/etc\/kafka\/secrets\//);
  });

  it("signs the broker's certificate for every name a client or the broker itself dials", () => {
    const init = readFileSync(join(KAFKA_DIR, 'init.sh'), 'utf8');
    const names = /-ext SAN=(\S+)/.exec(init)?.[1]?.split(',') ?? [];
    const dialled = [
      ...listenerAddresses(properties.get('advertised.listeners')).map(([, host]) => host),
      ...(properties.get('controller.quorum.voters') ?? '').split(',').map((voter) => /^\d+@([^:]+):/.exec(voter)?.[1]),
      '127.0.0.1', // LOCAL_KAFKA_BROKERS: the host's clients bootstrap from the published port.
    ];
    for (const host of new Set(dialled)) {
      expect(names).toContainEqual(/^\d/.test(host ?? '') ? `ip:${host}` : `dns:${host}`);
    }
    expect(init).toContain(`BROKER_CN=${BROKER_CERTIFICATE_CN}`);
  });

  it("runs the broker's scripts from deploy/compose/kafka, and health-checks as the operator", () => {
    for (const name of ['kafka', ...ONE_SHOT]) {
      const service = compose.services[name] as Service;
      const scripts = { source: './deploy/compose/kafka', target: '/opt/tributary', readOnly: true };
      expect(volumeMounts(service)).toContainEqual(scripts);
      const script = [service.entrypoint ?? []].flat().find((word) => word.startsWith('/opt/tributary/')) ?? '';
      expect(existsSync(join(KAFKA_DIR, script.replace('/opt/tributary/', '')))).toBe(true);
    }
    const healthcheck = JSON.stringify(compose.services.kafka?.healthcheck?.test);
    expect(healthcheck).toContain('--bootstrap-server kafka:19092');
    expect(healthcheck).toContain('--command-config /etc/kafka/secrets/operator.properties');
  });

  it("creates the catalogs' topics and ACLs as setup.sh says (run npm run deploy:render when this fails)", () => {
    expect(readFileSync(SETUP_SCRIPT_PATH, 'utf8')).toBe(renderSetupScript());
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('builds every stage from a pinned node:24-bookworm-slim base', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    expect(bases.every((base) => base === '${NODE_IMAGE}')).toBe(true);
  });

  it('builds in one stage and runs the compiled services with production dependencies only, as the node user', () => {
    const stages = dockerfile.split(/^FROM\s+/m).slice(1);
    const stage = (name: string) => stages.find((text) => text.startsWith(`\${NODE_IMAGE} AS ${name}\n`)) ?? '';
    expect(stage('build')).toMatch(/^RUN npm run build$/m);
    expect(stage('prod-deps')).toMatch(/npm ci --omit=dev /);
    const runtime = stages.at(-1) ?? '';
    expect(runtime).toBe(stage('runtime'));
    expect(runtime).toMatch(/^COPY --from=prod-deps \/app\/node_modules \.\/node_modules$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist\/services \.\/dist\/services$/m);
    expect(runtime).not.toMatch(/^COPY --from=build \/app\/node_modules/m);
    expect(runtime).not.toMatch(/ts-node|tsconfig/);
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(runtime).toMatch(/^USER node$/m);
  });

  it('health-checks with the compiled check and starts node in exec form, so SIGTERM reaches Nest', () => {
    const healthcheck = /^HEALTHCHECK\b(?:.*\\\n)*.*?CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(healthcheck ?? 'null')).toEqual(IMAGE_HEALTHCHECK.slice(1));
    const command = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(command ?? 'null')).toEqual([
      'node',
      compiledMain({ main: 'services/ledger-projector/src/main.ts' }),
    ]);
    expect(dockerfile).not.toMatch(/^(CMD|ENTRYPOINT) [^[]/m);
  });

  it('keeps local dependencies, caches, build output and git history out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.cache', 'artifacts', 'dist', '.git']));
  });
});
