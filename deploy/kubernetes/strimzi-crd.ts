// Checks a manifest the way a cluster with Strimzi's CustomResourceDefinitions would, without a cluster: for the
// specs of the rendered KafkaTopic and KafkaUser files. The CRDs are shared test data kept beside the clone (CI
// lays `shared/` there too), read in place and never copied into the repository.
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CRD_SUBDIR = path.join('shared', 'schemas', 'strimzi');

/**
 * The shared folder's CRDs: where TRIBUTARY_SHARED_DIR says, or else beside the clone or beside one of its parent
 * folders (a git worktree kept in a folder of its own, say), the nearest first.
 */
function strimziCrdDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRIBUTARY_SHARED_DIR) return path.resolve(env.TRIBUTARY_SHARED_DIR, 'schemas', 'strimzi');
  for (let folder = path.dirname(REPO_ROOT); ; folder = path.dirname(folder)) {
    if (fs.existsSync(path.join(folder, CRD_SUBDIR))) return path.join(folder, CRD_SUBDIR);
    if (folder === path.dirname(folder)) return path.resolve(REPO_ROOT, '..', CRD_SUBDIR);
  }
}
export const STRIMZI_CRD_DIR = strimziCrdDir();

type JsonSchema = { [key: string]: unknown };
interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly schema: { readonly openAPIV3Schema: JsonSchema };
}
interface Crd {
  readonly spec: { readonly group: string; readonly names: { readonly kind: string }; readonly versions: CrdVersion[] };
}

/** Says what is wrong with a manifest; an empty list means the API server would accept it as written. */
export type ManifestCheck = (manifest: unknown) => string[];

/**
 * Kubernetes prunes every field a structural schema does not declare, silently: a misspelt field would be
 * dropped on apply and its setting lost. Closing each declared object (unless it keeps unknown fields on
 * purpose) makes such a field an error here instead.
 */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const entries = Object.entries(schema).map(([key, value]) => [key, closeObjects(value)]);
  const node = Object.fromEntries(entries) as JsonSchema;
  const open = node['x-kubernetes-preserve-unknown-fields'] === true || 'additionalProperties' in node;
  if (node.properties !== undefined && !open) node.additionalProperties = false;
  return node;
}

function describeError(error: ErrorObject): string {
  const detail = error.keyword === 'additionalProperties' ? ` (${JSON.stringify(error.params)})` : '';
  return `${error.instancePath || '/'} ${error.message ?? 'is invalid'}${detail}`;
}

/**
 * A check for one CRD file of the shared folder: the manifest's kind is the CRD's, its apiVersion is a version
 * the CRD serves, and it validates against that version's openAPIV3Schema. Throws when the file is absent, so a
 * missing CRD fails the spec rather than skipping it.
 */
export function strimziManifestCheck(crdFile: string): ManifestCheck {
  const file = path.join(STRIMZI_CRD_DIR, crdFile);
  if (!fs.existsSync(file)) {
    throw new Error(
      `the Strimzi CRD ${file} is missing: the shared folder must sit beside the repository clone (or set TRIBUTARY_SHARED_DIR)`,
    );
  }
  const crd = parse(fs.readFileSync(file, 'utf8')) as Crd;
  const { group, names, versions } = crd.spec;
  // Kubernetes' own keywords (x-kubernetes-validations and the like) are left to the API server: ajv ignores
  // them when not strict. The CEL rules they carry are not evaluated here.
  const ajv = new Ajv({ allErrors: true, strict: false });
  const served = new Map<string, ValidateFunction>();
  for (const version of versions.filter((candidate) => candidate.served)) {
    served.set(`${group}/${version.name}`, ajv.compile(closeObjects(version.schema.openAPIV3Schema) as JsonSchema));
  }
  return (manifest) => {
    const { apiVersion, kind } = (manifest ?? {}) as { apiVersion?: unknown; kind?: unknown };
    if (kind !== names.kind) return [`kind ${String(kind)} is not ${names.kind}`];
    const validate = served.get(String(apiVersion));
    if (!validate) {
      return [`apiVersion ${String(apiVersion)} is not served by the CRD (served: ${[...served.keys()].join(', ')})`];
    }
    return validate(manifest) ? [] : (validate.errors ?? []).map(describeError);
  };
}

/** A Kubernetes object name (RFC 1123 subdomain), as the API server requires of metadata.name. */
export const KUBERNETES_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
