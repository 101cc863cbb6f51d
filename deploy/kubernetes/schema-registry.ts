// Renders the schema registry for Kubernetes: Apicurio Registry (the release deploy/registry runs locally and
// docker-compose runs as an image), its schemas in PostgreSQL as a login role of its own. A `registry-db` init
// container runs the same script as compose's one-shot (deploy/compose/registry/registry-db.sh, mounted from a
// ConfigMap) with the owner's connection: the registry's database, role and schema, least privilege. The
// registry itself gets only its role's credentials. Regenerate with `npm run deploy:render`.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { REGISTRY_IMAGE, REGISTRY_VERSION } from '../registry/src/version';

export const MANIFEST_PATH = path.join(__dirname, 'schema-registry.yaml');
export const REGISTRY_DB_SCRIPT_PATH = path.join(__dirname, '..', 'compose', 'registry', 'registry-db.sh');

export const REGISTRY_NAME = 'schema-registry';
export const REGISTRY_HTTP_PORT = 8080;
/** Quarkus's management interface: /health/live and /health/ready. */
const MANAGEMENT_PORT = 9000;
/** What the services' SCHEMA_REGISTRY_URL holds: the Confluent-compatible API, inside the cluster. */
export const SCHEMA_REGISTRY_URL_IN_CLUSTER = `http://${REGISTRY_NAME}:${REGISTRY_HTTP_PORT}/apis/ccompat/v7`;

/** The owner's connection (the services' owner step reads the same Secret) and the registry role's own. */
export const OWNER_SECRET = 'tributary-database';
export const REGISTRY_DATABASE_SECRET = 'tributary-schema-registry-database';
/** The PostgreSQL server; the operator's, like the services' (their DATABASE_URL names the same host). */
const POSTGRES_HOST = 'postgres.example.internal';
const POSTGRES_IMAGE = 'postgres:15-bookworm';
/** The image users: Apicurio's (UBI OpenJDK) runs as 1001, PostgreSQL's as postgres (999). */
const REGISTRY_USER_ID = 1001;
const POSTGRES_USER_ID = 999;

function selectorLabels() {
  return { 'app.kubernetes.io/name': REGISTRY_NAME, 'app.kubernetes.io/part-of': 'tributary' };
}

function labels() {
  return { ...selectorLabels(), 'app.kubernetes.io/version': REGISTRY_VERSION };
}

const containerSecurity = (user: number) => ({
  runAsNonRoot: true,
  runAsUser: user,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

/** Not secret: storage kind, the JDBC URL (no credentials in it), the pool. */
export function registryConfig(): Record<string, string> {
  return {
    APICURIO_STORAGE_KIND: 'sql',
    APICURIO_STORAGE_SQL_KIND: 'postgresql',
    APICURIO_DATASOURCE_URL: `jdbc:postgresql://${POSTGRES_HOST}:5432/tributary_registry?currentSchema=registry`,
    // A small pool per replica: PostgreSQL is shared with every service.
    APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: '2',
    APICURIO_DATASOURCE_JDBC_MIN_SIZE: '2',
    APICURIO_DATASOURCE_JDBC_MAX_SIZE: '10',
  };
}

function probe(pathName: string, periodSeconds: number, failureThreshold: number) {
  return {
    httpGet: { path: pathName, port: 'management', scheme: 'HTTP' },
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold,
  };
}

const SMALL = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } };

export function registryResources(): object[] {
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${REGISTRY_NAME}-env`, labels: labels() },
    data: registryConfig(),
  };
  const script = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${REGISTRY_NAME}-db`, labels: labels() },
    data: { 'registry-db.sh': fs.readFileSync(REGISTRY_DB_SCRIPT_PATH, 'utf8') },
  };
  const secretVariable = (name: string, secret: string, key = name) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key, optional: false } },
  });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: REGISTRY_NAME, labels: labels() },
    spec: {
      // The storage is PostgreSQL, so replicas share every schema and id.
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels() },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels() },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 30,
          initContainers: [
            {
              name: 'registry-db',
              image: POSTGRES_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/sh', '/opt/tributary/registry-db.sh'],
              env: [
                secretVariable('DATABASE_URL', OWNER_SECRET),
                secretVariable('REGISTRY_DB_PASSWORD', REGISTRY_DATABASE_SECRET, 'APICURIO_DATASOURCE_PASSWORD'),
              ],
              resources: SMALL,
              securityContext: containerSecurity(POSTGRES_USER_ID),
              volumeMounts: [
                { name: 'registry-db', mountPath: '/opt/tributary', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          containers: [
            {
              name: REGISTRY_NAME,
              image: REGISTRY_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              ports: [
                { name: 'http', containerPort: REGISTRY_HTTP_PORT, protocol: 'TCP' },
                { name: 'management', containerPort: MANAGEMENT_PORT, protocol: 'TCP' },
              ],
              envFrom: [{ configMapRef: { name: `${REGISTRY_NAME}-env` } }],
              env: [
                secretVariable('APICURIO_DATASOURCE_USERNAME', REGISTRY_DATABASE_SECRET),
                secretVariable('APICURIO_DATASOURCE_PASSWORD', REGISTRY_DATABASE_SECRET),
              ],
              resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '768Mi' } },
              startupProbe: probe('/health/live', 5, 24),
              livenessProbe: probe('/health/live', 10, 3),
              readinessProbe: probe('/health/ready', 5, 3),
              securityContext: containerSecurity(REGISTRY_USER_ID),
              // Quarkus and Apicurio's import work directory write to /tmp only.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [
            { name: 'registry-db', configMap: { name: `${REGISTRY_NAME}-db` } },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: REGISTRY_NAME, labels: labels() },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(),
      ports: [{ name: 'http', port: REGISTRY_HTTP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const budget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: REGISTRY_NAME, labels: labels() },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels() } },
  };
  return [configMap, script, deployment, service, budget];
}

/** The Secret the operator makes for the registry's own role (secrets.example.yaml lists it with the others). */
export function registryExampleSecret(): { name: string; stringData: Record<string, string> } {
  return {
    name: REGISTRY_DATABASE_SECRET,
    stringData: {
      APICURIO_DATASOURCE_USERNAME: 'tributary_registry',
      APICURIO_DATASOURCE_PASSWORD: 'CHANGE-ME-registry',
    },
  };
}

const GENERATED =
  'Generated by deploy/kubernetes/schema-registry.ts from deploy/registry and deploy/compose/registry: do not edit.';

export function renderRegistryManifests(): string {
  return `# ${GENERATED}\n---\n${registryResources()
    .map((resource) => stringify(resource))
    .join('---\n')}`;
}
