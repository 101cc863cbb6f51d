// Proves the offline Kubernetes check rejects what an API server (or the restricted Pod Security Standard) would,
// by breaking one field at a time of a rendered object and reading the problem it names: the schemas and the rules
// between fields are really applied, so the passing checks in services.spec.ts mean something.
import { parseAllDocuments } from 'yaml';
import { crossReferenceProblems, kubernetesManifestCheck, type Manifest } from './kubernetes-schema';
import { renderSecretsExample, renderServiceManifests } from './services';

const manifests: any[] = parseAllDocuments(renderServiceManifests())
  .map((document) => document.toJSON())
  .filter(Boolean);
const [secret]: any[] = parseAllDocuments(renderSecretsExample())
  .map((document) => document.toJSON())
  .filter(Boolean);
const find = (kind: string, name = 'attribution') =>
  structuredClone(manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name));
const check = kubernetesManifestCheck();
const problems = (manifest: unknown) => check(manifest).join('\n');

describe('the offline Kubernetes check', () => {
  describe('when the apiVersion and kind are not a pair it knows', () => {
    it('refuses a retired API version and an unknown kind', () => {
      expect(problems({ ...find('HorizontalPodAutoscaler'), apiVersion: 'autoscaling/v2beta1' })).toContain(
        'not a known apiVersion and kind',
      );
      expect(problems({ ...find('PodDisruptionBudget'), apiVersion: 'policy/v1beta1' })).toContain(
        'not a known apiVersion and kind',
      );
      expect(problems({ ...find('Service'), kind: 'Ingress' })).toContain('not a known apiVersion and kind');
    });
  });

  describe('when a field breaks the schema', () => {
    it('refuses a misspelt field, which the API server would drop or refuse', () => {
      const deployment = find('Deployment');
      const [container] = deployment.spec.template.spec.containers;
      container.readinessprobe = container.readinessProbe;
      expect(problems(deployment)).toContain('readinessprobe');
    });

    it('refuses a wrong type, an enum value and a name Kubernetes does not allow', () => {
      const deployment = find('Deployment');
      deployment.spec.replicas = '2';
      deployment.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
      deployment.metadata.name = 'Attribution_Service';
      const text = problems(deployment);
      expect(text).toContain('/spec/replicas must be integer');
      expect(text).toContain('imagePullPolicy');
      expect(text).toContain('/metadata/name');
    });

    it('refuses a bad quantity, a port out of range and a label value that is too long', () => {
      const deployment = find('Deployment');
      const [container] = deployment.spec.template.spec.containers;
      container.resources.limits.memory = '1 GB';
      container.ports[0].containerPort = 70_000;
      deployment.spec.template.metadata.labels['app.kubernetes.io/version'] = 'x'.repeat(64);
      const text = problems(deployment);
      expect(text).toContain('resources/limits/memory');
      expect(text).toContain('containerPort');
      expect(text).toContain('labels');
    });

    it('refuses a PodDisruptionBudget with both bounds, an autoscaler target of no known type, a Service without ports', () => {
      expect(
        problems({ ...find('PodDisruptionBudget'), spec: { ...find('PodDisruptionBudget').spec, minAvailable: 1 } }),
      ).toContain('oneOf');
      const autoscaler = find('HorizontalPodAutoscaler');
      autoscaler.spec.metrics[0].external.target.type = 'Average';
      expect(problems(autoscaler)).toContain('target/type');
      expect(problems({ ...find('Service'), spec: { ...find('Service').spec, ports: [] } })).toContain('ports');
    });

    it('refuses a ConfigMap value that is not a string and a Secret key with a slash', () => {
      const configMap = find('ConfigMap', 'attribution-env');
      configMap.data.ATTRIBUTION_HTTP_PORT = 3101;
      expect(problems(configMap)).toContain('ATTRIBUTION_HTTP_PORT');
      expect(problems({ ...secret, stringData: { 'database/url': 'x' } })).toContain('stringData');
    });
  });

  describe('when a Deployment breaks a rule between fields', () => {
    it('refuses a selector that does not match the pod labels, and a probe on a port the container does not have', () => {
      const deployment = find('Deployment');
      deployment.spec.selector.matchLabels['app.kubernetes.io/name'] = 'someone-else';
      deployment.spec.template.spec.containers[0].livenessProbe.httpGet.port = 'metrics';
      const text = problems(deployment);
      expect(text).toContain('spec.selector does not match the pod template labels');
      expect(text).toContain('livenessProbe port metrics is not a container port');
    });

    it('refuses a container without resources, probes or the restricted security context', () => {
      const deployment = find('Deployment');
      const [container] = deployment.spec.template.spec.containers;
      delete container.resources.limits;
      delete container.readinessProbe;
      container.securityContext = {};
      deployment.spec.template.spec.securityContext = {};
      const text = problems(deployment);
      const expectations = [
        'resources.limits.cpu',
        'resources.limits.memory',
        'no readinessProbe',
        'may run as root',
        'writable root filesystem',
      ];
      for (const expected of [...expectations, 'privilege escalation', 'drop ALL', 'seccomp']) {
        expect(text).toContain(expected);
      }
    });

    it('refuses a mount of a volume the pod does not have', () => {
      const deployment = find('Deployment');
      deployment.spec.template.spec.volumes = deployment.spec.template.spec.volumes.filter(
        (volume: any) => volume.name !== 'tmp',
      );
      expect(problems(deployment)).toContain('mounts tmp, which is not a volume of the pod');
    });
  });

  describe('across the objects of a rendering', () => {
    const external = new Set([
      'Secret/attribution',
      'Secret/tributary-cluster-ca-cert',
      'Secret/tributary-database',
      'Secret/tributary-attribution-database',
    ]);
    const set = (...changed: Manifest[]) => [
      find('ConfigMap', 'attribution-env'),
      find('Deployment'),
      find('Service'),
      find('PodDisruptionBudget'),
      find('HorizontalPodAutoscaler'),
      ...changed,
    ];

    it('accepts the attribution service as rendered', () => {
      expect(crossReferenceProblems(set(), external)).toEqual([]);
    });

    it('refuses a Service whose port names no container port, a budget that selects nothing, a Secret nothing makes', () => {
      const service = find('Service');
      service.spec.ports[0].targetPort = 'web';
      const budget = find('PodDisruptionBudget');
      budget.spec.selector.matchLabels['app.kubernetes.io/name'] = 'nobody';
      const text = crossReferenceProblems(
        [service, budget, find('Deployment'), find('ConfigMap', 'attribution-env')],
        new Set(['Secret/attribution']),
      ).join('\n');
      expect(text).toContain('targetPort web is not a container port');
      expect(text).toContain('PodDisruptionBudget attribution selects the pods of 0 Deployments');
      expect(text).toContain('Secret/tributary-database, which nothing makes');
    });

    it('refuses an autoscaler whose Deployment also sets replicas, or whose bounds are upside down', () => {
      const deployment = find('Deployment');
      deployment.spec.replicas = 2;
      const autoscaler = find('HorizontalPodAutoscaler');
      autoscaler.spec.minReplicas = 7;
      const text = crossReferenceProblems(
        [deployment, autoscaler, find('ConfigMap', 'attribution-env')],
        external,
      ).join('\n');
      expect(text).toContain('its Deployment sets replicas');
      expect(text).toContain('minReplicas 7 is above maxReplicas 6');
    });
  });
});
