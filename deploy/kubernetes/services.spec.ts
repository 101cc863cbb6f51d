// Proves the services' Kubernetes manifests run what deploy/local runs, the way the catalogs say: each object is
// validated offline against the Kubernetes schemas of kubernetes-schema.ts, the references between objects are
// followed (Secrets included, down to the KafkaUsers Strimzi turns into Secrets), each service's own configuration
// code parses the environment its pod would get, and the autoscalers' bounds are read off the topic catalog.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kafkaEnv } from '@tributary/config';
import { catalogFor, offsetHomes, topicCatalog } from '@tributary/contracts';
import { topicsEnv } from '@tributary/messaging';
import { DATABASE_ACCESS } from '@tributary/persistence';
import { attributionConfig } from '../../services/attribution/src/attribution.config';
import { gatewayConfig } from '../../services/gateway/src/gateway.config';
import { ledgerApiConfig } from '../../services/ledger-api/src/ledger-api.config';
import { projectorConfig } from '../../services/ledger-projector/src/projector.config';
import { payoutsConfig } from '../../services/payouts/src/payouts.config';
import { compiledMain, LOCAL_SERVICES } from '../local/src/services';
import { CLUSTER_CA_SECRET, KAFKA_BOOTSTRAP } from './kafka-cluster';
import { renderUserManifests } from './kafka-users';
import { crossReferenceProblems, kubernetesManifestCheck, type Manifest } from './kubernetes-schema';
import { IMAGE, LAG_METRIC, renderSecretsExample, renderServiceManifests } from './services';

type Parsed = Manifest & {
  metadata: { name: string; labels: Record<string, string> };
  spec: any;
  data: any;
  stringData: any;
};

function documents(text: string): Parsed[] {
  return parseAllDocuments(text)
    .map((document) => document.toJSON() as Parsed | null)
    .filter((manifest): manifest is Parsed => manifest !== null);
}

const manifests = documents(renderServiceManifests());
const secrets = documents(renderSecretsExample());
const kafkaUsers = documents(renderUserManifests());
const of = (kind: string, name: string) =>
  manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
const containerOf = (name: string) => of('Deployment', name)!.spec.template.spec.containers[0];
/** What the pod's environment would be: its ConfigMap, then the operator's Secrets (the example values). */
function podEnv(name: string): Record<string, string> {
  const container = containerOf(name);
  const fromSecrets = (
    container.env as Array<{ name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }>
  ).map(({ name: variable, valueFrom }) => [
    variable,
    secrets.find((secret) => secret.metadata.name === valueFrom.secretKeyRef.name)?.stringData[
      valueFrom.secretKeyRef.key
    ],
  ]);
  return { ...of('ConfigMap', `${name}-env`)!.data, ...Object.fromEntries(fromSecrets) };
}

/** What Strimzi and the operator make before the services: each KafkaUser's Secret, the cluster CA, the example Secrets. */
const EXTERNAL = new Set([
  ...kafkaUsers.map((user) => `Secret/${user.metadata.name}`),
  `Secret/${CLUSTER_CA_SECRET}`,
  ...secrets.map((secret) => `Secret/${secret.metadata.name}`),
]);

describe('the services on Kubernetes', () => {
  describe('against the Kubernetes schemas', () => {
    const check = kubernetesManifestCheck();

    it.each([...manifests, ...secrets].map((manifest) => [`${manifest.kind} ${manifest.metadata.name}`, manifest]))(
      '%s is valid',
      (_name, manifest) => {
        expect(check(manifest)).toEqual([]);
      },
    );

    it("refer only to objects of the set, to the KafkaUsers Strimzi makes Secrets of, and to the operator's Secrets", () => {
      expect(crossReferenceProblems(manifests, EXTERNAL)).toEqual([]);
    });
  });

  describe('for each service of deploy/local', () => {
    it.each(LOCAL_SERVICES.map((service) => [service.name, service]))(
      '%s has a ConfigMap, a Deployment, a Service and a PodDisruptionBudget',
      (name) => {
        for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget']) expect(of(kind, name)).toBeDefined();
        expect(of('ConfigMap', `${name}-env`)).toBeDefined();
      },
    );

    it.each(LOCAL_SERVICES.map((service) => [service.name, service]))(
      '%s runs the compiled service from the project image, probed at its own port',
      (name, service) => {
        const container = containerOf(name);
        expect(container.image).toBe(IMAGE);
        expect(IMAGE).toBe(
          `tributary:${JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version}`,
        );
        expect(container.command).toEqual(['node', `dist/services/${name}/src/main.js`]);
        expect(container.ports).toEqual([{ name: 'http', containerPort: service.httpPort, protocol: 'TCP' }]);
        expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http', scheme: 'HTTP' });
        expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http', scheme: 'HTTP' });
        expect(podEnv(name)[service.httpPortVariable]).toBe(String(service.httpPort));
        expect(of('Service', name)!.spec.ports).toEqual([
          { name: 'http', port: service.httpPort, targetPort: 'http', protocol: 'TCP' },
        ]);
      },
    );

    it.each(LOCAL_SERVICES.map((service) => [service.name]))(
      '%s authenticates as its own KafkaUser, with the password and CA Strimzi keeps',
      (name) => {
        const env = podEnv(name);
        const pod = of('Deployment', name)!.spec.template.spec;
        const mountOf = (secretName: string) => {
          const volume = pod.volumes.find((candidate: any) => candidate.secret?.secretName === secretName);
          return pod.containers[0].volumeMounts.find((mount: any) => mount.name === volume?.name)?.mountPath;
        };
        expect(kafkaUsers.map((user) => user.metadata.name)).toContain(env.KAFKA_USERNAME);
        expect(env).toMatchObject({ KAFKA_USERNAME: name, KAFKA_SECURITY: 'sasl_ssl', KAFKA_BROKERS: KAFKA_BOOTSTRAP });
        expect(env.KAFKA_PASSWORD_FILE).toBe(`${mountOf(name)}/password`);
        expect(env.KAFKA_CA_FILE).toBe(`${mountOf(CLUSTER_CA_SECRET)}/ca.crt`);
      },
    );
  });

  describe('configuration', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-k8s-spec-'));
    const caFile = path.join(dir, 'ca.crt');
    const passwordFile = path.join(dir, 'password');
    fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(passwordFile, 'from-the-kafka-user-secret\n');
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    /** The pod's environment with the two mounted files where this test wrote them. */
    const localEnv = (name: string) => ({ ...podEnv(name), KAFKA_PASSWORD_FILE: passwordFile, KAFKA_CA_FILE: caFile });

    const configs: Record<string, (env: NodeJS.ProcessEnv) => unknown> = {
      gateway: gatewayConfig,
      attribution: attributionConfig,
      'ledger-projector': projectorConfig,
      'ledger-api': ledgerApiConfig,
      payouts: payoutsConfig,
    };

    it.each(LOCAL_SERVICES.map((service) => [service.name]))(
      "%s: its own configuration code accepts the pod's environment",
      (name) => {
        const env = localEnv(name);
        expect(() => configs[name]!(env)).not.toThrow();
        expect(kafkaEnv(env, name).kafkaSecurity).toMatchObject({ mode: 'sasl_ssl', username: name });
        expect(topicsEnv(env).KAFKA_REPLICATION_FACTOR).toBe(3);
        expect(configs[name]!(env)).toMatchObject({ HTTP_HOST: '0.0.0.0' });
      },
    );

    it.each(LOCAL_SERVICES.map((service) => [service.name]))(
      '%s: every ConfigMap variable is one the code reads',
      (name) => {
        const sources = [
          `services/${name}/src`,
          'libs/config/src',
          'libs/messaging/src',
          'libs/contracts/src',
          'libs/persistence/src',
        ].flatMap(sourceTexts);
        for (const variable of Object.keys(of('ConfigMap', `${name}-env`)!.data)) {
          expect([variable, sources.some((text) => text.includes(variable))]).toEqual([variable, true]);
        }
      },
    );

    it('keeps every secret out of the ConfigMaps: passwords, tokens and the database URL come from Secrets', () => {
      for (const configMap of manifests.filter((manifest) => manifest.kind === 'ConfigMap')) {
        for (const [key, value] of Object.entries(configMap.data as Record<string, string>)) {
          expect(key).not.toMatch(/PASSWORD$|TOKEN|SECRET$|DATABASE_URL/);
          expect(value).not.toMatch(/:\/\/[^/]*@/);
        }
      }
      expect(podEnv('ledger-api')).toHaveProperty('LEDGER_API_READER_DATABASE_URL');
    });

    it.each(LOCAL_SERVICES.map((service) => [service.name, service]))(
      "%s: only its `migrate` init container gets the owner's database URL; the service gets its role's",
      (name, service) => {
        const { variables } = DATABASE_ACCESS[name];
        const secretNames = (env: Array<{ name: string }>) => env.map((variable) => variable.name);
        const [migrate, ...more] = of('Deployment', name)!.spec.template.spec.initContainers;
        expect(more).toEqual([]);
        expect(migrate.command).toEqual(['node', compiledMain({ main: service.cli }), 'migrate']);
        expect(secretNames(migrate.env)).toEqual(expect.arrayContaining(['DATABASE_URL', variables.url]));
        expect(secretNames(containerOf(name).env)).toContain(variables.url);
        expect(secretNames(containerOf(name).env)).not.toContain('DATABASE_URL');
        expect(podEnv(name)[variables.migrate]).toBe('false');
        expect(new URL(podEnv(name)[variables.url]!).username).toBe(DATABASE_ACCESS[name].role);
      },
    );
  });

  describe('autoscaling on consumer lag', () => {
    const autoscalers = manifests.filter((manifest) => manifest.kind === 'HorizontalPodAutoscaler');
    const partitions = new Map(topicCatalog(catalogFor('')).map((spec) => [spec.name, spec.partitions]));

    it('scales the attribution service and the projector, and nothing else', () => {
      expect(autoscalers.map((autoscaler) => autoscaler.spec.scaleTargetRef.name).sort()).toEqual([
        'attribution',
        'ledger-projector',
      ]);
    });

    it.each(autoscalers.map((autoscaler) => [autoscaler.metadata.name, autoscaler]))(
      "%s scales on its own group's lag, to at most one replica per partition of the topics the group reads",
      (name, autoscaler) => {
        const [metric] = autoscaler.spec.metrics;
        expect(metric.type).toBe('External');
        expect(metric.external.metric.name).toBe(LAG_METRIC);
        const groupId = metric.external.metric.selector.matchLabels.consumergroup;
        const { groups } = catalogFor('');
        expect(groupId).toBe(name === 'attribution' ? groups.attribution : groups.ledgerProjector);
        const home = offsetHomes({}).find((candidate) => candidate.groupId === groupId)!;
        expect(home.service).toBe(name);
        expect(autoscaler.spec.maxReplicas).toBe(Math.max(...home.topics.map((topic) => partitions.get(topic)!)));
        expect(autoscaler.spec.minReplicas).toBeLessThanOrEqual(autoscaler.spec.maxReplicas);
        expect(Number(metric.external.target.averageValue)).toBeGreaterThan(0);
      },
    );
  });
});

/** The text of every non-test TypeScript file under a folder of the repository. */
function sourceTexts(folder: string): string[] {
  const root = path.join(__dirname, '..', '..', folder);
  return fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(file))
    .map((file) => fs.readFileSync(path.join(root, file), 'utf8'));
}
