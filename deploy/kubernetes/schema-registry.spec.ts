// Proves the schema registry's Kubernetes manifests run what deploy/registry runs locally and compose runs as an
// image: each object passes the offline Kubernetes check (the restricted Pod Security Standard included), the
// references resolve, the registry keeps its data in PostgreSQL as its own role, its database is made by the same
// script as compose's, and every service is pointed at it.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { REGISTRY_IMAGE } from '../registry/src/version';
import { crossReferenceProblems, kubernetesManifestCheck, type Manifest } from './kubernetes-schema';
import {
  OWNER_SECRET,
  REGISTRY_DATABASE_SECRET,
  REGISTRY_DB_SCRIPT_PATH,
  SCHEMA_REGISTRY_URL_IN_CLUSTER,
  renderRegistryManifests,
} from './schema-registry';
import { renderSecretsExample, renderServiceManifests } from './services';

const documents = (text: string): any[] =>
  parseAllDocuments(text)
    .map((document) => document.toJSON())
    .filter(Boolean);
const manifests = documents(renderRegistryManifests());
const of = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const deployment = of('Deployment', 'schema-registry');
const pod = deployment.spec.template.spec;

describe('the schema registry on Kubernetes', () => {
  const check = kubernetesManifestCheck();

  it.each(manifests.map((manifest) => [`${manifest.kind} ${manifest.metadata.name}`, manifest]))(
    '%s is valid',
    (_name, manifest) => {
      expect(check(manifest)).toEqual([]);
    },
  );

  it("refers only to its own objects and to the operator's Secrets", () => {
    const secrets = documents(renderSecretsExample()).map((secret) => `Secret/${secret.metadata.name}`);
    expect(secrets).toEqual(expect.arrayContaining([`Secret/${OWNER_SECRET}`, `Secret/${REGISTRY_DATABASE_SECRET}`]));
    expect(crossReferenceProblems(manifests as Manifest[], new Set(secrets))).toEqual([]);
  });

  it('runs the Apicurio Registry release deploy/registry provisions, with PostgreSQL storage', () => {
    const [container] = pod.containers;
    expect(container.image).toBe(REGISTRY_IMAGE);
    expect(of('ConfigMap', 'schema-registry-env').data).toMatchObject({
      APICURIO_STORAGE_KIND: 'sql',
      APICURIO_STORAGE_SQL_KIND: 'postgresql',
      APICURIO_DATASOURCE_URL: expect.stringMatching(
        /^jdbc:postgresql:\/\/[^/]+\/tributary_registry\?currentSchema=registry$/,
      ),
    });
  });

  it("gives the registry its own role's credentials only; the owner's connection goes to the init container alone", () => {
    const secretsOf = (container: any) => container.env.map((variable: any) => variable.valueFrom.secretKeyRef.name);
    expect(new Set(secretsOf(pod.containers[0]))).toEqual(new Set([REGISTRY_DATABASE_SECRET]));
    const [init] = pod.initContainers;
    expect(secretsOf(init)).toEqual([OWNER_SECRET, REGISTRY_DATABASE_SECRET]);
    expect(init.command).toEqual(['/bin/sh', '/opt/tributary/registry-db.sh']);
  });

  it("makes its database with compose's very script", () => {
    expect(of('ConfigMap', 'schema-registry-db').data['registry-db.sh']).toBe(
      fs.readFileSync(REGISTRY_DB_SCRIPT_PATH, 'utf8'),
    );
  });

  it('is what the gateway, which registers the schemas, is pointed at', () => {
    const gateway = documents(renderServiceManifests()).find(
      (m) => m.kind === 'ConfigMap' && m.metadata.name === 'gateway-env',
    );
    expect(gateway.data.SCHEMA_REGISTRY_URL).toBe(SCHEMA_REGISTRY_URL_IN_CLUSTER);
    expect(SCHEMA_REGISTRY_URL_IN_CLUSTER).toBe(
      `http://schema-registry:${of('Service', 'schema-registry').spec.ports[0].port}/apis/ccompat/v7`,
    );
  });
});
