// The pure half of registering Tributary's event schemas with a Confluent-compatible registry: which
// subjects, which versions in which order, the request bodies, and reading the registry's answers with
// an error that names the field and the rule. No I/O here; client.ts does the HTTP.
import { type EventContract, listEventContracts } from '@tributary/contracts';

/**
 * The registry's compatibility level for every subject. The project's own checker
 * (libs/contracts/src/schemas/compatibility.ts, the CI gate) requires each version to be both
 * backward and forward compatible with the version before it: old readers read new records and new
 * readers read old ones. That is Confluent's FULL (against the latest registered version), not
 * FULL_TRANSITIVE (which the checker does not enforce: it compares consecutive versions only).
 */
export const COMPATIBILITY_LEVEL = 'FULL';

export interface PlannedVersion {
  readonly version: number;
  /** SHA-256 of the schema's Parsing Canonical Form, as the catalog and the ce_dataschema header carry it. */
  readonly fingerprint: string;
  /** The schema exactly as registered: the assembled schema with its docs and `tributary.*` attributes. */
  readonly schemaText: string;
}

export interface PlannedSubject {
  /** Record-name strategy: the Avro full name, which is also the ce_type of the event's records. */
  readonly subject: string;
  readonly eventType: string;
  /** Oldest first: the registry checks each against the one before, as the project's checker does. */
  readonly versions: readonly PlannedVersion[];
}

/**
 * One subject per event type (a topic carries several event types, so the topic-name strategy would
 * mix them), every version oldest to newest, subjects in name order so a run is repeatable.
 */
export function registrationPlan(contracts: readonly EventContract[] = listEventContracts()): PlannedSubject[] {
  return contracts
    .map((contract) => ({
      subject: subjectOf(contract),
      eventType: contract.eventType,
      versions: [...contract.versions.values()]
        .sort((a, b) => a.version - b.version)
        .map((version) => ({
          version: version.version,
          fingerprint: version.fingerprintSha256,
          schemaText: JSON.stringify(version.schema),
        })),
    }))
    .sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
}

/** The Avro full name of the event's record (namespace.name), which every version shares. */
export function subjectOf(contract: Pick<EventContract, 'eventType' | 'latest'>): string {
  const name = contract.latest.avroType.name;
  if (name === undefined) throw new Error(`${contract.eventType}: the schema is not a named record`);
  return name;
}

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** POST /subjects/{subject}/versions */
export function registerSchemaBody(schemaText: string): { schema: string; schemaType: 'AVRO' } {
  return { schema: schemaText, schemaType: 'AVRO' };
}

/** PUT /config/{subject} */
export function compatibilityBody(level: string = COMPATIBILITY_LEVEL): { compatibility: string } {
  return { compatibility: level };
}

/** The registry's answer broke a rule: which request, which field, which rule, what came instead. */
export class RegistryResponseError extends Error {
  override readonly name = 'RegistryResponseError';

  constructor(
    readonly request: string,
    readonly field: string,
    readonly rule: string,
    got: unknown,
  ) {
    super(`schema registry answer to ${request}: ${field}: ${rule}, got ${describe(got)}`);
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

function objectOf(request: string, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RegistryResponseError(request, '(body)', 'must be a JSON object', body);
  return body as Record<string, unknown>;
}

function schemaId(request: string, field: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw new RegistryResponseError(request, field, 'must be a positive integer', value);
}

/** `{"id": 7}` from registering a schema under a subject. */
export function parseRegisterResponse(request: string, body: unknown): number {
  return schemaId(request, 'id', objectOf(request, body).id);
}

/** `{"schema": "...", "schemaType"?: "AVRO"}` from GET /schemas/ids/{id}; a missing schemaType means Avro. */
export function parseSchemaByIdResponse(request: string, body: unknown): { schema: string; schemaType: string } {
  const object = objectOf(request, body);
  if (typeof object.schema !== 'string' || object.schema === '')
    throw new RegistryResponseError(request, 'schema', 'must be a non-empty string', object.schema);
  const schemaType = object.schemaType ?? 'AVRO';
  if (typeof schemaType !== 'string')
    throw new RegistryResponseError(request, 'schemaType', 'must be a string when present', schemaType);
  return { schema: object.schema, schemaType };
}

/** `{"subject", "version", "id", "schema"}` from GET /subjects/{subject}/versions/{version}. */
export function parseSubjectVersionResponse(
  request: string,
  body: unknown,
): { subject: string; version: number; id: number; schema: string } {
  const object = objectOf(request, body);
  if (typeof object.subject !== 'string' || object.subject === '')
    throw new RegistryResponseError(request, 'subject', 'must be a non-empty string', object.subject);
  return {
    subject: object.subject,
    version: schemaId(request, 'version', object.version),
    id: schemaId(request, 'id', object.id),
    schema: parseSchemaByIdResponse(request, body).schema,
  };
}

/** `["a", "b"]` from GET /subjects. */
export function parseSubjectsResponse(request: string, body: unknown): string[] {
  if (!Array.isArray(body)) throw new RegistryResponseError(request, '(body)', 'must be a JSON array', body);
  body.forEach((item: unknown, index) => {
    if (typeof item !== 'string' || item === '')
      throw new RegistryResponseError(request, `[${index}]`, 'must be a non-empty string', item);
  });
  return body as string[];
}

/** `[1, 2, 3]` from GET /subjects/{subject}/versions. */
export function parseVersionsResponse(request: string, body: unknown): number[] {
  if (!Array.isArray(body)) throw new RegistryResponseError(request, '(body)', 'must be a JSON array', body);
  return body.map((item: unknown, index) => schemaId(request, `[${index}]`, item));
}

/**
 * The level from GET /config/{subject} (`compatibilityLevel`) or from PUT /config/{subject}
 * (`compatibility`, the request echoed back).
 */
export function parseCompatibilityResponse(request: string, body: unknown): string {
  const object = objectOf(request, body);
  const level = object.compatibilityLevel ?? object.compatibility;
  if (typeof level !== 'string' || !/^[A-Z_]+$/.test(level))
    throw new RegistryResponseError(request, 'compatibilityLevel', 'must be a level such as FULL or BACKWARD', level);
  return level;
}

/** The registry's own error body (`{"error_code": 409, "message": "..."}`), as text for an error message. */
export function registryErrorText(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const message = body.message;
    if (typeof message === 'string') return message.length > 300 ? `${message.slice(0, 300)}...` : message;
  }
  return describe(body);
}
