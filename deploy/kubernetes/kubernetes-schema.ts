// Checks the core Kubernetes objects deploy/kubernetes renders (Deployment, Service, PodDisruptionBudget,
// HorizontalPodAutoscaler, ConfigMap, Secret) the way strimzi-crd.ts checks the Strimzi ones, without a cluster:
// ajv against a JSON schema per apiVersion and kind. No package with Kubernetes' own schemas is installed, so these
// are written here: a structural subset of the Kubernetes API's OpenAPI schema holding the fields the renderers
// emit, with the API's names, types, enums and formats, every object closed (a misspelt field is an error, as
// `kubectl apply --validate=strict` makes it). Then the rules no schema states: selectors that match the pod
// labels, probe and Service ports that name a container port, resources and the restricted security context set.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { ManifestCheck } from './strimzi-crd';

type JsonSchema = { [key: string]: unknown };

/** An object schema with exactly these properties. */
function closed(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}
const string = { type: 'string' };
const boolean = { type: 'boolean' };
const integer = (minimum = 0, maximum?: number): JsonSchema => ({
  type: 'integer',
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const arrayOf = (items: JsonSchema, minItems = 0): JsonSchema => ({ type: 'array', items, minItems });

/** RFC 1123 subdomain (metadata.name of most kinds), RFC 1123 label (container and volume names), IANA service name (port names). */
const DNS_SUBDOMAIN = {
  type: 'string',
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
};
const DNS_LABEL = { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
/** A Service's name is a DNS label (RFC 1035: it starts with a letter), not a subdomain. */
const DNS_1035_LABEL = { type: 'string', maxLength: 63, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' };
const PORT_NAME = { type: 'string', maxLength: 15, pattern: '^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
const PORT_NUMBER = integer(1, 65_535);
const INT_OR_STRING = { anyOf: [integer(0), { type: 'string', minLength: 1 }] };
const PORT_REFERENCE = { anyOf: [PORT_NUMBER, PORT_NAME] };
/** A resource quantity as the API server parses it (100m, 1, 512Mi, 1e3). */
const QUANTITY = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    {
      type: 'string',
      pattern:
        '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    },
  ],
};
/** A label key: an optional DNS subdomain prefix and a name of at most 63 characters. */
const LABEL_KEY =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_VALUE = { type: 'string', maxLength: 63, pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$' };
const LABELS = { type: 'object', propertyNames: { pattern: LABEL_KEY }, additionalProperties: LABEL_VALUE };
const ANNOTATIONS = { type: 'object', propertyNames: { pattern: LABEL_KEY }, additionalProperties: string };
/** Environment variable names and ConfigMap and Secret keys. */
const ENV_NAME = { type: 'string', pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' };
const CONFIG_KEY = { type: 'string', maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' };

const metadata = (name: JsonSchema = DNS_SUBDOMAIN) =>
  closed({ name, namespace: DNS_LABEL, labels: LABELS, annotations: ANNOTATIONS }, ['name']);

const labelSelector = closed({
  matchLabels: LABELS,
  matchExpressions: arrayOf(
    closed({ key: string, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: arrayOf(string) }, [
      'key',
      'operator',
    ]),
  ),
});

const resourceList = closed({ cpu: QUANTITY, memory: QUANTITY, 'ephemeral-storage': QUANTITY });

const probe = closed(
  {
    httpGet: closed({ path: string, port: PORT_REFERENCE, scheme: { enum: ['HTTP', 'HTTPS'] }, host: string }, [
      'port',
    ]),
    initialDelaySeconds: integer(0),
    periodSeconds: integer(1),
    timeoutSeconds: integer(1),
    successThreshold: integer(1),
    failureThreshold: integer(1),
  },
  ['httpGet'],
);

const seccompProfile = closed(
  { type: { enum: ['RuntimeDefault', 'Localhost', 'Unconfined'] }, localhostProfile: string },
  ['type'],
);

const containerSecurityContext = closed({
  runAsNonRoot: boolean,
  runAsUser: integer(0),
  runAsGroup: integer(0),
  allowPrivilegeEscalation: boolean,
  privileged: boolean,
  readOnlyRootFilesystem: boolean,
  capabilities: closed({ add: arrayOf(string), drop: arrayOf(string) }),
  seccompProfile,
});

const keyReference = closed({ name: DNS_SUBDOMAIN, key: CONFIG_KEY, optional: boolean }, ['key']);

const container = closed(
  {
    name: DNS_LABEL,
    image: { type: 'string', minLength: 1 },
    imagePullPolicy: { enum: ['Always', 'Never', 'IfNotPresent'] },
    command: arrayOf(string),
    args: arrayOf(string),
    workingDir: string,
    ports: arrayOf(
      closed({ name: PORT_NAME, containerPort: PORT_NUMBER, protocol: { enum: ['TCP', 'UDP', 'SCTP'] } }, [
        'containerPort',
      ]),
    ),
    envFrom: arrayOf(
      closed({
        prefix: string,
        configMapRef: closed({ name: DNS_SUBDOMAIN, optional: boolean }, ['name']),
        secretRef: closed({ name: DNS_SUBDOMAIN, optional: boolean }, ['name']),
      }),
    ),
    env: arrayOf(
      closed(
        {
          name: ENV_NAME,
          value: string,
          valueFrom: closed({ secretKeyRef: keyReference, configMapKeyRef: keyReference }),
        },
        ['name'],
      ),
    ),
    resources: closed({ requests: resourceList, limits: resourceList }),
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    securityContext: containerSecurityContext,
    volumeMounts: arrayOf(
      closed({ name: DNS_LABEL, mountPath: { type: 'string', pattern: '^/' }, readOnly: boolean, subPath: string }, [
        'name',
        'mountPath',
      ]),
    ),
  },
  ['name', 'image'],
);

const FILE_MODE = integer(0, 0o777);
const volume = {
  ...closed(
    {
      name: DNS_LABEL,
      secret: closed({
        secretName: DNS_SUBDOMAIN,
        items: arrayOf(
          closed({ key: CONFIG_KEY, path: { type: 'string', pattern: '^[^/]' }, mode: FILE_MODE }, ['key', 'path']),
        ),
        defaultMode: FILE_MODE,
        optional: boolean,
      }),
      configMap: closed({ name: DNS_SUBDOMAIN, defaultMode: FILE_MODE, optional: boolean }),
      emptyDir: closed({ medium: { enum: ['', 'Memory'] }, sizeLimit: QUANTITY }),
    },
    ['name'],
  ),
  // Exactly one volume source.
  oneOf: [{ required: ['secret'] }, { required: ['configMap'] }, { required: ['emptyDir'] }],
};

const podSpec = closed(
  {
    automountServiceAccountToken: boolean,
    enableServiceLinks: boolean,
    serviceAccountName: DNS_SUBDOMAIN,
    securityContext: closed({
      runAsNonRoot: boolean,
      runAsUser: integer(0),
      runAsGroup: integer(0),
      fsGroup: integer(0),
      seccompProfile,
    }),
    terminationGracePeriodSeconds: integer(0),
    topologySpreadConstraints: arrayOf(
      closed(
        {
          maxSkew: integer(1),
          topologyKey: { type: 'string', minLength: 1 },
          whenUnsatisfiable: { enum: ['DoNotSchedule', 'ScheduleAnyway'] },
          labelSelector,
        },
        ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
      ),
    ),
    // Run to completion, in order, before the containers start (no probes: Kubernetes refuses them there).
    initContainers: arrayOf({
      ...container,
      not: {
        anyOf: [{ required: ['livenessProbe'] }, { required: ['readinessProbe'] }, { required: ['startupProbe'] }],
      },
    }),
    containers: arrayOf(container, 1),
    volumes: arrayOf(volume),
  },
  ['containers'],
);

const deployment = closed(
  {
    apiVersion: { const: 'apps/v1' },
    kind: { const: 'Deployment' },
    metadata: metadata(),
    spec: closed(
      {
        replicas: integer(0),
        revisionHistoryLimit: integer(0),
        minReadySeconds: integer(0),
        selector: labelSelector,
        strategy: closed({
          type: { enum: ['RollingUpdate', 'Recreate'] },
          rollingUpdate: closed({ maxSurge: INT_OR_STRING, maxUnavailable: INT_OR_STRING }),
        }),
        template: closed({ metadata: closed({ labels: LABELS, annotations: ANNOTATIONS }), spec: podSpec }, ['spec']),
      },
      ['selector', 'template'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

const service = closed(
  {
    apiVersion: { const: 'v1' },
    kind: { const: 'Service' },
    metadata: metadata(DNS_1035_LABEL),
    spec: closed({
      type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
      selector: LABELS,
      ports: arrayOf(
        closed(
          {
            name: PORT_NAME,
            port: PORT_NUMBER,
            targetPort: PORT_REFERENCE,
            protocol: { enum: ['TCP', 'UDP', 'SCTP'] },
          },
          ['port'],
        ),
        1,
      ),
    }),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

const disruptionBudget = {
  ...closed(
    {
      apiVersion: { const: 'policy/v1' },
      kind: { const: 'PodDisruptionBudget' },
      metadata: metadata(),
      spec: {
        ...closed({ selector: labelSelector, minAvailable: INT_OR_STRING, maxUnavailable: INT_OR_STRING }, [
          'selector',
        ]),
        // One of the two, never both (the API server refuses both).
        oneOf: [{ required: ['minAvailable'] }, { required: ['maxUnavailable'] }],
      },
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
};

const scalingRules = closed({
  stabilizationWindowSeconds: integer(0, 3_600),
  selectPolicy: { enum: ['Max', 'Min', 'Disabled'] },
  policies: arrayOf(
    closed({ type: { enum: ['Pods', 'Percent'] }, value: integer(1), periodSeconds: integer(1, 1_800) }, [
      'type',
      'value',
      'periodSeconds',
    ]),
  ),
});

const metricTarget = closed(
  {
    type: { enum: ['Utilization', 'Value', 'AverageValue'] },
    value: QUANTITY,
    averageValue: QUANTITY,
    averageUtilization: integer(1),
  },
  ['type'],
);

const autoscaler = closed(
  {
    apiVersion: { const: 'autoscaling/v2' },
    kind: { const: 'HorizontalPodAutoscaler' },
    metadata: metadata(),
    spec: closed(
      {
        scaleTargetRef: closed({ apiVersion: string, kind: { type: 'string', minLength: 1 }, name: DNS_SUBDOMAIN }, [
          'kind',
          'name',
        ]),
        minReplicas: integer(1),
        maxReplicas: integer(1),
        metrics: arrayOf(
          closed(
            {
              type: { enum: ['Resource', 'Pods', 'Object', 'External', 'ContainerResource'] },
              external: closed(
                {
                  metric: closed({ name: { type: 'string', minLength: 1 }, selector: labelSelector }, ['name']),
                  target: metricTarget,
                },
                ['metric', 'target'],
              ),
            },
            ['type'],
          ),
        ),
        behavior: closed({ scaleUp: scalingRules, scaleDown: scalingRules }),
      },
      ['scaleTargetRef', 'maxReplicas'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

const configMap = closed(
  {
    apiVersion: { const: 'v1' },
    kind: { const: 'ConfigMap' },
    metadata: metadata(),
    immutable: boolean,
    data: { type: 'object', propertyNames: CONFIG_KEY, additionalProperties: string },
  },
  ['apiVersion', 'kind', 'metadata'],
);

const secret = closed(
  {
    apiVersion: { const: 'v1' },
    kind: { const: 'Secret' },
    metadata: metadata(),
    immutable: boolean,
    type: string,
    data: {
      type: 'object',
      propertyNames: CONFIG_KEY,
      additionalProperties: { type: 'string', contentEncoding: 'base64' },
    },
    stringData: { type: 'object', propertyNames: CONFIG_KEY, additionalProperties: string },
  },
  ['apiVersion', 'kind', 'metadata'],
);

/** The kinds this file knows, by `apiVersion/kind` as the API server routes them. */
const SCHEMAS: Record<string, JsonSchema> = {
  'apps/v1/Deployment': deployment,
  'v1/Service': service,
  'policy/v1/PodDisruptionBudget': disruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaler,
  'v1/ConfigMap': configMap,
  'v1/Secret': secret,
};

function describeError(error: ErrorObject): string {
  const detail = ['additionalProperties', 'enum', 'const'].includes(error.keyword)
    ? ` (${JSON.stringify(error.params)})`
    : '';
  return `${error.instancePath || '/'} ${error.message ?? 'is invalid'}${detail}`;
}

interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: Record<string, unknown> & {
    capabilities?: { drop?: string[] };
    seccompProfile?: { type?: string };
  };
  volumeMounts?: Array<{ name: string }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ valueFrom?: { secretKeyRef?: { name: string } } }>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: {
    securityContext?: Record<string, unknown> & { seccompProfile?: { type?: string } };
    initContainers?: Container[];
    containers: Container[];
    volumes?: Array<{ name: string; secret?: { secretName: string } }>;
  };
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/** Whether a port reference (a number or a name) names one of the container's ports. */
function namesPort(container: Container, port: unknown): boolean {
  return (container.ports ?? []).some(
    (candidate) => candidate.containerPort === port || (candidate.name !== undefined && candidate.name === port),
  );
}

/** The restricted Pod Security Standard, and what this project asks of every container on top. */
function containerProblems(container: Container, pod: PodTemplate['spec'], init = false): string[] {
  const at = `${init ? 'init container' : 'container'} ${container.name}`;
  const problems: string[] = [];
  for (const name of init ? [] : (['livenessProbe', 'readinessProbe'] as const)) {
    if (container[name] === undefined) problems.push(`${at} has no ${name}`);
  }
  for (const name of PROBES) {
    const port = (container[name] as { httpGet?: { port?: unknown } } | undefined)?.httpGet?.port;
    if (container[name] !== undefined && !namesPort(container, port))
      problems.push(`${at}: ${name} port ${String(port)} is not a container port`);
  }
  for (const side of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) {
      if (container.resources?.[side]?.[resource] === undefined)
        problems.push(`${at} has no resources.${side}.${resource}`);
    }
  }
  const context = container.securityContext ?? {};
  const podContext = pod.securityContext ?? {};
  if (context.runAsNonRoot !== true && podContext.runAsNonRoot !== true)
    problems.push(`${at} may run as root (runAsNonRoot)`);
  if (context.readOnlyRootFilesystem !== true) problems.push(`${at} has a writable root filesystem`);
  if (context.allowPrivilegeEscalation !== false) problems.push(`${at} allows privilege escalation`);
  if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at} keeps capabilities (drop ALL)`);
  const seccomp = context.seccompProfile?.type ?? podContext.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${at} runs without a seccomp profile`);
  const volumes = new Set((pod.volumes ?? []).map((volume) => volume.name));
  for (const mount of container.volumeMounts ?? []) {
    if (!volumes.has(mount.name)) problems.push(`${at} mounts ${mount.name}, which is not a volume of the pod`);
  }
  return problems;
}

/** Whether every label a selector asks for is on the pod. */
export function selects(
  matchLabels: Record<string, string> | undefined,
  podLabels: Record<string, string> | undefined,
): boolean {
  const wanted = Object.entries(matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => podLabels?.[key] === value);
}

function deploymentProblems(manifest: {
  spec: { selector: { matchLabels?: Record<string, string> }; template: PodTemplate };
}): string[] {
  const { selector, template } = manifest.spec;
  const problems = selects(selector.matchLabels, template.metadata?.labels)
    ? []
    : ['spec.selector does not match the pod template labels'];
  return [
    ...problems,
    ...(template.spec.initContainers ?? []).flatMap((candidate) => containerProblems(candidate, template.spec, true)),
    ...template.spec.containers.flatMap((candidate) => containerProblems(candidate, template.spec)),
  ];
}

/**
 * A check for the core kinds: the manifest's apiVersion and kind are a pair this file knows, it validates against
 * that pair's schema, and a Deployment keeps the rules above. An empty list means it is valid.
 */
export function kubernetesManifestCheck(): ManifestCheck {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>(
    Object.entries(SCHEMAS).map(([key, schema]) => [key, ajv.compile(schema)]),
  );
  return (manifest) => {
    const { apiVersion, kind } = (manifest ?? {}) as { apiVersion?: unknown; kind?: unknown };
    const validate = validators.get(`${String(apiVersion)}/${String(kind)}`);
    if (!validate)
      return [
        `${String(apiVersion)} ${String(kind)} is not a known apiVersion and kind (known: ${[...validators.keys()].join(', ')})`,
      ];
    if (!validate(manifest)) return (validate.errors ?? []).map(describeError);
    return kind === 'Deployment' ? deploymentProblems(manifest as Parameters<typeof deploymentProblems>[0]) : [];
  };
}

/** An object of a rendering, as far as the cross-references below read it. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
}
interface DeploymentView extends Manifest {
  readonly spec: { readonly replicas?: number; readonly template: PodTemplate };
}
interface ServiceView extends Manifest {
  readonly spec: {
    readonly selector?: Record<string, string>;
    readonly ports: Array<{ port: number; targetPort?: number | string }>;
  };
}
interface BudgetView extends Manifest {
  readonly spec: { readonly selector: { readonly matchLabels?: Record<string, string> } };
}
interface AutoscalerView extends Manifest {
  readonly spec: {
    readonly scaleTargetRef: { kind: string; name: string };
    readonly minReplicas?: number;
    readonly maxReplicas: number;
  };
}

/** The ConfigMaps and Secrets a pod reads, as `Kind/name`. */
function podReferences(pod: PodTemplate): string[] {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return [
    ...containers.flatMap((candidate) =>
      (candidate.envFrom ?? []).flatMap((from) => (from.configMapRef ? [`ConfigMap/${from.configMapRef.name}`] : [])),
    ),
    ...containers.flatMap((candidate) =>
      (candidate.env ?? []).flatMap((variable) =>
        variable.valueFrom?.secretKeyRef ? [`Secret/${variable.valueFrom.secretKeyRef.name}`] : [],
      ),
    ),
    ...(pod.spec.volumes ?? []).flatMap((volume) => (volume.secret ? [`Secret/${volume.secret.secretName}`] : [])),
  ];
}

function serviceProblems(service: ServiceView, pods: readonly PodTemplate[]): string[] {
  const at = `Service ${service.metadata.name}`;
  const targets = pods.filter((pod) => selects(service.spec.selector, pod.metadata?.labels));
  const problems = targets.length === 1 ? [] : [`${at} selects the pods of ${targets.length} Deployments, not one`];
  for (const port of service.spec.ports) {
    const target = port.targetPort ?? port.port;
    if (!targets.every((pod) => pod.spec.containers.some((candidate) => namesPort(candidate, target)))) {
      problems.push(`${at}: targetPort ${String(target)} is not a container port of the pods it selects`);
    }
  }
  return problems;
}

function autoscalerProblems(autoscaler: AutoscalerView, deployments: readonly DeploymentView[]): string[] {
  const at = `HorizontalPodAutoscaler ${autoscaler.metadata.name}`;
  const { scaleTargetRef, minReplicas = 1, maxReplicas } = autoscaler.spec;
  const target = deployments.find((deployment) => deployment.metadata.name === scaleTargetRef.name);
  const problems: string[] = [];
  if (scaleTargetRef.kind !== 'Deployment' || !target)
    problems.push(`${at} scales ${scaleTargetRef.kind} ${scaleTargetRef.name}, which is not in the set`);
  if (target?.spec.replicas !== undefined)
    problems.push(`${at}: its Deployment sets replicas, which every apply would reset`);
  if (minReplicas > maxReplicas) problems.push(`${at}: minReplicas ${minReplicas} is above maxReplicas ${maxReplicas}`);
  return problems;
}

/**
 * The references between objects of one rendering: each Service, PodDisruptionBudget and HorizontalPodAutoscaler
 * reaches a Deployment of the set (a Service's target port being one of its container ports), and each ConfigMap
 * and Secret a pod reads is in the set or among `external` (`Kind/name`: what Strimzi or the operator makes).
 */
export function crossReferenceProblems(manifests: readonly Manifest[], external: ReadonlySet<string>): string[] {
  const deployments = manifests.filter((manifest): manifest is DeploymentView => manifest.kind === 'Deployment');
  const pods = deployments.map((deployment) => deployment.spec.template);
  const present = new Set(manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`));
  const problems: string[] = [];
  for (const manifest of manifests) {
    if (manifest.kind === 'Service') problems.push(...serviceProblems(manifest as ServiceView, pods));
    if (manifest.kind === 'HorizontalPodAutoscaler')
      problems.push(...autoscalerProblems(manifest as AutoscalerView, deployments));
    if (manifest.kind === 'PodDisruptionBudget') {
      const selected = pods.filter((pod) =>
        selects((manifest as BudgetView).spec.selector.matchLabels, pod.metadata?.labels),
      );
      if (selected.length !== 1)
        problems.push(
          `PodDisruptionBudget ${manifest.metadata.name} selects the pods of ${selected.length} Deployments, not one`,
        );
    }
  }
  for (const reference of new Set(pods.flatMap(podReferences))) {
    if (!present.has(reference) && !external.has(reference))
      problems.push(`a pod reads ${reference}, which nothing makes`);
  }
  return problems;
}
