// Reads the Avro source of truth in schemas/ and assembles each event version into one
// self-contained schema. Layout: schemas/common/<Name>.avsc holds shared named records
// (namespace tributary.common); schemas/<domain>/<EventName>/v<N>.avsc holds version N of an event
// (namespace tributary.<domain>). Event files refer to shared records by full name; assembling
// inlines each shared record at its first use, so what we parse, fingerprint and publish is a plain
// Avro schema any consumer can read without our files.
import * as fs from 'fs';
import * as path from 'path';
import { ATTRIBUTE_PREFIX, fullNameOf, isJsonObject, type JsonObject, type JsonValue } from './schema-tree';

/** Domains in the order of the design's topic table; each is the namespace `tributary.<domain>`. */
export const DOMAINS = [
  'datanets',
  'contributions',
  'models',
  'inferences',
  'attributions',
  'payouts',
  'funding',
] as const;
export type Domain = (typeof DOMAINS)[number];

export const COMMON_NAMESPACE = 'tributary.common';
export const TOPIC_ATTRIBUTE = `${ATTRIBUTE_PREFIX}topic`;
export const KEY_ATTRIBUTE = `${ATTRIBUTE_PREFIX}key`;

/** schemas/ at the repository root, seen from this file (libs/contracts/src/schemas). */
export const DEFAULT_SCHEMAS_DIR = path.resolve(__dirname, '../../../../schemas');

export interface SchemaVersionSource {
  readonly version: number;
  /** Path relative to the schemas directory, for messages. */
  readonly file: string;
  /** The assembled, self-contained schema (shared records inlined). */
  readonly schema: JsonObject;
}

export interface EventSchemaSource {
  readonly eventType: string;
  readonly domain: Domain;
  readonly topic: string;
  readonly keyField: string;
  /** Versions 1..N in order. */
  readonly versions: readonly SchemaVersionSource[];
}

export interface SchemaCatalog {
  readonly commonRecords: ReadonlyMap<string, JsonObject>;
  readonly events: readonly EventSchemaSource[];
}

const VERSION_FILE = /^v([1-9][0-9]*)\.avsc$/;

export function loadSchemaCatalog(schemasDir: string = DEFAULT_SCHEMAS_DIR): SchemaCatalog {
  const commonRecords = loadCommonRecords(path.join(schemasDir, 'common'));
  const events: EventSchemaSource[] = [];
  for (const domain of DOMAINS) {
    const domainDir = path.join(schemasDir, domain);
    if (!fs.existsSync(domainDir)) continue;
    for (const eventType of sortedEntries(domainDir)) {
      events.push(loadEvent(schemasDir, domain, eventType, commonRecords));
    }
  }
  assertNoStrayDirectories(schemasDir);
  return { commonRecords, events };
}

function loadCommonRecords(commonDir: string): Map<string, JsonObject> {
  const records = new Map<string, JsonObject>();
  if (!fs.existsSync(commonDir)) return records;
  for (const file of sortedEntries(commonDir)) {
    const schema = readSchemaFile(path.join(commonDir, file));
    const fullName = fullNameOf(String(schema['name']), String(schema['namespace'] ?? ''));
    if (fullName !== `${COMMON_NAMESPACE}.${path.basename(file, '.avsc')}`) {
      throw new Error(
        `schemas/common/${file}: expected ${COMMON_NAMESPACE}.${path.basename(file, '.avsc')}, found ${fullName}`,
      );
    }
    records.set(fullName, schema);
  }
  return records;
}

function loadEvent(
  schemasDir: string,
  domain: Domain,
  eventType: string,
  commonRecords: ReadonlyMap<string, JsonObject>,
): EventSchemaSource {
  const versions = versionFiles(path.join(schemasDir, domain, eventType)).map((file, index) => {
    const relative = `${domain}/${eventType}/${file}`;
    const raw = readSchemaFile(path.join(schemasDir, relative));
    assertEventHeader(relative, raw, domain, eventType);
    return { version: index + 1, file: relative, schema: inlineCommonRecords(raw, commonRecords) };
  });
  const latest = versions[versions.length - 1];
  if (latest === undefined) throw new Error(`schemas/${domain}/${eventType}: no v1.avsc`);
  return {
    eventType,
    domain,
    topic: String(latest.schema[TOPIC_ATTRIBUTE]),
    keyField: String(latest.schema[KEY_ATTRIBUTE]),
    versions,
  };
}

/** Version files must be v1..vN with no gap: a gap would hide a pair from the compatibility check. */
function versionFiles(eventDir: string): string[] {
  const numbers = sortedEntries(eventDir).map((file) => {
    const match = VERSION_FILE.exec(file);
    if (match === null || match[1] === undefined) throw new Error(`${eventDir}/${file}: expected v<N>.avsc`);
    return Number(match[1]);
  });
  numbers.sort((left, right) => left - right);
  numbers.forEach((version, index) => {
    if (version !== index + 1) throw new Error(`${eventDir}: versions must be v1..vN without gaps, found v${version}`);
  });
  return numbers.map((version) => `v${version}.avsc`);
}

function assertEventHeader(file: string, schema: JsonObject, domain: Domain, eventType: string): void {
  const expected: Record<string, JsonValue> = {
    type: 'record',
    name: eventType,
    namespace: `tributary.${domain}`,
    [TOPIC_ATTRIBUTE]: `tributary.${domain}`,
  };
  for (const [key, value] of Object.entries(expected)) {
    if (schema[key] !== value) throw new Error(`schemas/${file}: '${key}' must be ${JSON.stringify(value)}`);
  }
  const keyField = schema[KEY_ATTRIBUTE];
  const fields = Array.isArray(schema['fields']) ? schema['fields'] : [];
  const keyIsStringField = fields.some(
    (field) => isJsonObject(field) && field['name'] === keyField && field['type'] === 'string',
  );
  if (typeof keyField !== 'string' || !keyIsStringField) {
    throw new Error(`schemas/${file}: '${KEY_ATTRIBUTE}' must name a string field of the record`);
  }
}

/**
 * Replaces the first reference to each shared record with its definition. Later references stay
 * names, as Avro requires a named type to be defined exactly once per schema.
 */
export function inlineCommonRecords(schema: JsonObject, commonRecords: ReadonlyMap<string, JsonObject>): JsonObject {
  const defined = new Set<string>();
  const inline = (node: JsonValue, namespace: string): JsonValue => {
    if (typeof node === 'string') {
      const fullName = node.includes('.') ? node : fullNameOf(node, namespace);
      const shared = commonRecords.get(fullName);
      if (shared === undefined || defined.has(fullName)) return node;
      defined.add(fullName);
      return inline(shared, COMMON_NAMESPACE);
    }
    if (Array.isArray(node)) return node.map((branch) => inline(branch, namespace));
    if (!isJsonObject(node)) return node;
    return inlineObject(node, namespace, inline, defined);
  };
  return inline(schema, '') as JsonObject;
}

function inlineObject(
  node: JsonObject,
  namespace: string,
  inline: (node: JsonValue, namespace: string) => JsonValue,
  defined: Set<string>,
): JsonObject {
  const ownNamespace = typeof node['namespace'] === 'string' ? node['namespace'] : namespace;
  if (typeof node['name'] === 'string' && ['record', 'enum', 'fixed'].includes(String(node['type']))) {
    defined.add(fullNameOf(node['name'], ownNamespace));
  }
  const copy: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(node)) {
    copy[key] = inlineChild(key, value, node, ownNamespace, inline);
  }
  return copy;
}

function inlineChild(
  key: string,
  value: JsonValue,
  parent: JsonObject,
  namespace: string,
  inline: (node: JsonValue, namespace: string) => JsonValue,
): JsonValue {
  if (key === 'fields' && Array.isArray(value)) {
    return value.map((field) =>
      isJsonObject(field) ? { ...field, type: inline(field['type'] ?? null, namespace) } : field,
    );
  }
  const holdsType = key === 'items' || key === 'values' || (key === 'type' && typeof parent['type'] !== 'string');
  return holdsType ? inline(value, namespace) : value;
}

function readSchemaFile(file: string): JsonObject {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!isJsonObject(parsed as JsonValue)) throw new Error(`${file}: expected a JSON object`);
  return parsed as JsonObject;
}

function sortedEntries(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((entry) => !entry.startsWith('.'))
    .sort();
}

function assertNoStrayDirectories(schemasDir: string): void {
  const allowed = new Set<string>(['common', ...DOMAINS]);
  for (const entry of sortedEntries(schemasDir)) {
    if (fs.statSync(path.join(schemasDir, entry)).isDirectory() && !allowed.has(entry)) {
      throw new Error(`schemas/${entry}: not a known domain (${[...allowed].join(', ')})`);
    }
  }
}
