// Renders every Tributary service for Kubernetes from the lists the rest of the project keeps: the services and
// their HTTP ports (deploy/local/src/services.ts), their Kafka principals (the access catalog, whose KafkaUsers
// Strimzi turns into Secrets) and the topics and consumer groups they read (the topic catalog). Each service gets
// a ConfigMap, a Deployment, a Service and a PodDisruptionBudget; the two that consume the event stream in
// parallel (attribution, ledger-projector) also get a HorizontalPodAutoscaler on their consumer group's lag,
// bounded by the partitions of the topics the group reads. Secrets that are not Strimzi's are the operator's:
// secrets.example.yaml shows their shape and is never applied as it is.
// Regenerate with `npm run deploy:render`; a unit spec fails when a committed file is stale.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { catalogFor, offsetHomes, topicCatalog, type ServicePrincipal } from '@tributary/contracts';
import { DATABASE_ACCESS } from '@tributary/persistence';
import { compiledMain, LOCAL_SERVICES, type LocalService } from '../local/src/services';
import { CLUSTER_CA_SECRET, KAFKA_BOOTSTRAP, REPLICATION_FACTOR } from './kafka-cluster';
import { registryExampleSecret, SCHEMA_REGISTRY_URL_IN_CLUSTER } from './schema-registry';

export const MANIFEST_PATH = path.join(__dirname, 'services.yaml');
export const SECRETS_EXAMPLE_PATH = path.join(__dirname, 'secrets.example.yaml');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
/** The image every service runs, tagged with the project's version: one image, one command per service. */
export const IMAGE = `tributary:${VERSION}`;
/** The image's `node` user (uid and gid 1000 in the official Node images): numeric, so runAsNonRoot can verify it. */
const NODE_USER_ID = 1000;
const HTTP_PORT_NAME = 'http';

/** The External metric the autoscalers read: Strimzi's Kafka Exporter's lag, served by a metrics adapter. */
export const LAG_METRIC = 'kafka_consumergroup_lag';

/** Where the Strimzi Secrets are mounted in every service container, read-only. */
const KAFKA_USER_DIR = '/etc/tributary/kafka-user';
const KAFKA_CA_DIR = '/etc/tributary/kafka-ca';

/** A variable a service reads from a Secret the operator creates (secrets.example.yaml). */
interface SecretVariable {
  readonly variable: string;
  readonly secret: string;
  /** Optional: the service starts without it, and leaves off what it enables. */
  readonly optional: boolean;
  readonly example: string;
}

/** The owner's connection: only each pod's `migrate` init container gets it, never the service. */
const DATABASE_URL: SecretVariable = {
  variable: 'DATABASE_URL',
  secret: 'tributary-database',
  optional: false,
  example: 'postgres://tributary:CHANGE-ME@postgres.example.internal:5432/tributary',
};

/**
 * The service's own database role's connection (libs/persistence/src/database-roles.ts), its password in it:
 * the service runs with it alone, and the init container sets that password on the role.
 */
function roleDatabaseUrl(service: ServicePrincipal): SecretVariable {
  const { variables, role } = DATABASE_ACCESS[service];
  return {
    variable: variables.url,
    secret: service === 'ledger-api' ? 'tributary-ledger-api-reader' : `tributary-${service}-database`,
    optional: false,
    example: `postgres://${role}:CHANGE-ME-${service}@postgres.example.internal:5432/tributary`,
  };
}

interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Lag autoscaling: the consumer group whose lag decides, and the lag one replica is expected to keep up with. */
interface LagScaling {
  readonly groupId: string;
  readonly lagPerReplicaTarget: number;
}

/** What Kubernetes needs to know of a service beyond deploy/local's list. */
interface ServiceDeployment {
  /** Replicas of a service without an autoscaler; an autoscaled one starts from its HPA's minimum. */
  readonly replicas: number;
  readonly resources: Resources;
  readonly secretVariables: readonly SecretVariable[];
  readonly lagScaling?: LagScaling;
}

const SMALL: Resources = { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '768Mi' } };
const BUSY: Resources = { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '1Gi' } };

/**
 * Each service's deployment. A `switch` with a `never` check, as in the access catalog, so a new service fails to
 * compile here until it is given one. The lag targets are starting points for an operator to tune: one attribution
 * instance decided about 10,000 inferences a second in the README's benchmarks (2026-12-04), so its target is a
 * couple of seconds of work; the projector's is set lower, its batches being database transactions.
 */
function deploymentOf(service: ServicePrincipal): ServiceDeployment {
  const { groups } = catalogFor('');
  switch (service) {
    case 'gateway':
      return { replicas: 2, resources: BUSY, secretVariables: [roleDatabaseUrl(service)] };
    case 'attribution':
      return {
        replicas: 2,
        resources: BUSY,
        secretVariables: [roleDatabaseUrl(service)],
        lagScaling: { groupId: groups.attribution, lagPerReplicaTarget: 20_000 },
      };
    case 'ledger-projector':
      return {
        replicas: 2,
        resources: BUSY,
        secretVariables: [roleDatabaseUrl(service)],
        lagScaling: { groupId: groups.ledgerProjector, lagPerReplicaTarget: 10_000 },
      };
    case 'ledger-api':
      return { replicas: 2, resources: SMALL, secretVariables: [roleDatabaseUrl(service)] };
    case 'payouts': {
      // Without a token the operator's endpoints (deposits, epoch closes by hand) stay off.
      const operatorToken = {
        variable: 'PAYOUTS_OPERATOR_TOKEN',
        secret: 'tributary-payouts-operator',
        optional: true,
        example: 'CHANGE-ME-at-least-16-characters',
      };
      return { replicas: 2, resources: SMALL, secretVariables: [roleDatabaseUrl(service), operatorToken] };
    }
    default: {
      const unhandled: never = service;
      throw new Error(`no deployment for service ${String(unhandled)}`);
    }
  }
}

/**
 * The most replicas that can each own a partition of the group's topics: past the largest partition count among
 * them, a new replica is assigned nothing and only adds a rebalance.
 */
export function partitionBound(groupId: string): number {
  const home = offsetHomes({}).find((candidate) => candidate.groupId === groupId);
  if (!home) throw new Error(`consumer group ${groupId} is not in the offset homes of the contracts`);
  const partitions = new Map(topicCatalog(catalogFor('')).map((spec) => [spec.name, spec.partitions]));
  return Math.max(...home.topics.map((topic) => partitions.get(topic) ?? 0));
}

function selectorLabels(name: string) {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'tributary' };
}

function labels(name: string) {
  return { ...selectorLabels(name), 'app.kubernetes.io/version': VERSION };
}

/**
 * The services that talk to the schema registry: the ones that write event records register every event
 * schema there at start-up and frame their records with its ids (libs/messaging's installWireFraming; the
 * gateway's catalog says the ids too). A service whose code comes to read SCHEMA_REGISTRY_URL joins this set.
 */
const REGISTRY_CLIENTS: ReadonlySet<ServicePrincipal> = new Set(['gateway', 'attribution', 'payouts']);

/** The variables that are no secret, in the service's own words (services/<name>/src/*config*.ts, libs/config). */
function configData(service: LocalService): Record<string, string> {
  return {
    // In a container the service must listen on every interface, not on 127.0.0.1.
    HTTP_HOST: '0.0.0.0',
    [service.httpPortVariable]: String(service.httpPort),
    LOG_LEVEL: 'log',
    KAFKA_BROKERS: KAFKA_BOOTSTRAP,
    KAFKA_SECURITY: 'sasl_ssl',
    KAFKA_CLIENT_ID: `tributary-${service.name}`,
    // The KafkaUser of the same name; Strimzi writes its password into the Secret mounted below.
    KAFKA_USERNAME: service.name,
    KAFKA_PASSWORD_FILE: `${KAFKA_USER_DIR}/password`,
    KAFKA_CA_FILE: `${KAFKA_CA_DIR}/ca.crt`,
    // The topics exist already (kafka-topics.yaml); this is what a DLQ the service creates for itself gets.
    KAFKA_REPLICATION_FACTOR: String(REPLICATION_FACTOR),
    // The schema registry of schema-registry.yaml, for the services whose code reads it.
    ...(REGISTRY_CLIENTS.has(service.name) ? { SCHEMA_REGISTRY_URL: SCHEMA_REGISTRY_URL_IN_CLUSTER } : {}),
    // The database owner step ran in the pod's `migrate` init container: the service only connects as its role.
    [DATABASE_ACCESS[service.name].variables.migrate]: 'false',
  };
}

function configMap(service: LocalService) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${service.name}-env`, labels: labels(service.name) },
    data: configData(service),
  };
}

function probe(pathName: string, periodSeconds: number, failureThreshold: number) {
  return {
    httpGet: { path: pathName, port: HTTP_PORT_NAME, scheme: 'HTTP' },
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold,
  };
}

/** A new object each time, so the YAML has no anchors. */
const containerSecurity = () => ({
  runAsNonRoot: true,
  runAsUser: NODE_USER_ID,
  runAsGroup: NODE_USER_ID,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

function secretEnv(variables: readonly SecretVariable[]) {
  return variables.map(({ variable, secret, optional }) => ({
    name: variable,
    valueFrom: { secretKeyRef: { name: secret, key: variable, optional } },
  }));
}

/** What runs the database owner step, before the service starts: the only holder of the owner's connection. */
function ownerStepVariables(service: ServicePrincipal): SecretVariable[] {
  return [DATABASE_URL, roleDatabaseUrl(service)];
}

/**
 * The service's `migrate` command (its migrations, its role with the password of its URL, the role's grants),
 * run with the owner's connection before every start; safe to run again and beside other pods' runs.
 */
function migrateContainer(service: LocalService) {
  return {
    name: 'migrate',
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', compiledMain({ main: service.cli }), 'migrate'],
    env: [{ name: 'LOG_LEVEL', value: 'log' }, ...secretEnv(ownerStepVariables(service.name))],
    resources: SMALL,
    securityContext: containerSecurity(),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}

function container(service: LocalService, deployment: ServiceDeployment) {
  return {
    name: service.name,
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    // The compiled service (npm run build puts it under dist/, mirroring the source tree).
    command: ['node', compiledMain(service)],
    ports: [{ name: HTTP_PORT_NAME, containerPort: service.httpPort, protocol: 'TCP' }],
    envFrom: [{ configMapRef: { name: `${service.name}-env` } }],
    env: secretEnv(deployment.secretVariables),
    resources: deployment.resources,
    // Start-up connects to PostgreSQL and Kafka: up to two minutes before liveness counts.
    startupProbe: probe('/health/live', 5, 24),
    livenessProbe: probe('/health/live', 10, 3),
    readinessProbe: probe('/health/ready', 5, 3),
    securityContext: containerSecurity(),
    volumeMounts: [
      { name: 'kafka-user', mountPath: KAFKA_USER_DIR, readOnly: true },
      { name: 'kafka-ca', mountPath: KAFKA_CA_DIR, readOnly: true },
      // The root filesystem is read-only; Node and its libraries get a small scratch directory.
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/** Owner read, group read (the pod's fsGroup), nobody else: 0440. */
const SECRET_FILE_MODE = 0o440;

function podSpec(service: LocalService, deployment: ServiceDeployment) {
  return {
    // The services never call the Kubernetes API.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NODE_USER_ID,
      runAsGroup: NODE_USER_ID,
      fsGroup: NODE_USER_ID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // Nest's shutdown hooks finish the batch in flight and leave the consumer group within this.
    terminationGracePeriodSeconds: 30,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selectorLabels(service.name) },
      },
    ],
    initContainers: [migrateContainer(service)],
    containers: [container(service, deployment)],
    volumes: [
      {
        name: 'kafka-user',
        secret: {
          secretName: service.name,
          items: [{ key: 'password', path: 'password' }],
          defaultMode: SECRET_FILE_MODE,
        },
      },
      {
        name: 'kafka-ca',
        secret: {
          secretName: CLUSTER_CA_SECRET,
          items: [{ key: 'ca.crt', path: 'ca.crt' }],
          defaultMode: SECRET_FILE_MODE,
        },
      },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ],
  };
}

/** A hash of the ConfigMap's data in the pod template, so changing the configuration rolls the pods. */
function configHash(service: LocalService): string {
  return createHash('sha256')
    .update(JSON.stringify(configData(service)))
    .digest('hex')
    .slice(0, 16);
}

function deploymentResource(service: LocalService, deployment: ServiceDeployment) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service.name, labels: labels(service.name) },
    spec: {
      // An autoscaled Deployment leaves replicas to its HPA, or every apply would reset the HPA's choice.
      ...(deployment.lagScaling ? {} : { replicas: deployment.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(service.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(service.name), annotations: { 'tributary.io/config-hash': configHash(service) } },
        spec: podSpec(service, deployment),
      },
    },
  };
}

function serviceResource(service: LocalService) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, labels: labels(service.name) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(service.name),
      ports: [{ name: HTTP_PORT_NAME, port: service.httpPort, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

/** One pod at a time may be evicted (a node drain), whatever the replica count, so a drain never blocks. */
function disruptionBudget(service: LocalService) {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: service.name, labels: labels(service.name) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(service.name) } },
  };
}

function autoscaler(service: LocalService, deployment: ServiceDeployment, scaling: LagScaling) {
  const maxReplicas = partitionBound(scaling.groupId);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: service.name,
      labels: labels(service.name),
      annotations: {
        'tributary.io/doc': `Scales on the lag of consumer group ${scaling.groupId}, to one replica per partition at most.`,
      },
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: service.name },
      minReplicas: Math.min(deployment.replicas, maxReplicas),
      maxReplicas,
      metrics: [
        {
          type: 'External',
          external: {
            metric: { name: LAG_METRIC, selector: { matchLabels: { consumergroup: scaling.groupId } } },
            target: { type: 'AverageValue', averageValue: String(scaling.lagPerReplicaTarget) },
          },
        },
      ],
      // Every change of the replica count rebalances the group: scale up at once, down slowly.
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
      },
    },
  };
}

/** Every object of services.yaml, service by service. */
export function serviceResources(): object[] {
  return LOCAL_SERVICES.flatMap((service) => {
    const deployment = deploymentOf(service.name);
    const scaled = deployment.lagScaling ? [autoscaler(service, deployment, deployment.lagScaling)] : [];
    return [
      configMap(service),
      deploymentResource(service, deployment),
      serviceResource(service),
      disruptionBudget(service),
      ...scaled,
    ];
  });
}

/** The Secrets the operator creates, one per name, each with every key a service reads from it. */
export function exampleSecrets(): object[] {
  const byName = new Map<string, Record<string, string>>();
  for (const service of LOCAL_SERVICES) {
    for (const { secret, variable, example } of [
      ...ownerStepVariables(service.name),
      ...deploymentOf(service.name).secretVariables,
    ]) {
      byName.set(secret, { ...byName.get(secret), [variable]: example });
    }
  }
  const registry = registryExampleSecret();
  byName.set(registry.name, registry.stringData);
  return [...byName].map(([name, stringData]) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'tributary' } },
    type: 'Opaque',
    stringData,
  }));
}

const GENERATED =
  'Generated by deploy/kubernetes/services.ts from deploy/local/src/services.ts and libs/contracts: do not edit.';

export function renderServiceManifests(): string {
  return `# ${GENERATED}\n---\n${serviceResources()
    .map((resource) => stringify(resource))
    .join('---\n')}`;
}

export function renderSecretsExample(): string {
  const header = [
    `# ${GENERATED}`,
    '# An example only, never applied as it is: the Secrets the services read that Strimzi does not make. Create',
    '# them with your own values before the services (README.md, "Before you apply").',
  ].join('\n');
  return `${header}\n---\n${exampleSecrets()
    .map((resource) => stringify(resource))
    .join('---\n')}`;
}

if (require.main === module) {
  fs.writeFileSync(MANIFEST_PATH, renderServiceManifests());
  fs.writeFileSync(SECRETS_EXAMPLE_PATH, renderSecretsExample());
  for (const file of [MANIFEST_PATH, SECRETS_EXAMPLE_PATH])
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
