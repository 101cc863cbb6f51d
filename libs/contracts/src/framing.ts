/**
 * The two framings a record value can have, and the book of schema registry ids that decides which one
 * a writer uses.
 *
 * - raw: the Avro body alone. Everything written before the schema registry existed, and everything a
 *   process writes while it has no ids installed. `content-type: application/avro`.
 * - confluent: one zero byte (the magic byte), the writer schema's registry id as a 4-byte big-endian
 *   signed integer, then the same Avro body. The framing Kafka's analytics tools expect (Kafka Connect's
 *   Avro converter, kcat, Flink, ClickHouse...). `content-type: application/vnd.tributary.avro+confluent`.
 *
 * Our own readers never need the id: the writer schema is found by the fingerprint in ce_dataschema, on
 * both framings, so a rebuild reads the whole log (raw records and framed ones) without any registry.
 * When a process knows the ids, a reader also checks that a framed record's id is the one its
 * fingerprint was registered under. Pure: no I/O; the ids come from whoever registered the schemas.
 */
import { ContractError } from './schemas/contract-error';
import { listEventContracts } from './schemas/registry';

/** Raw Avro, as every record before the registry: the body alone. */
export const CONTENT_TYPE_AVRO = 'application/avro';
/**
 * The Confluent framing: magic byte, registry id, then the Avro body. A distinct media type (in the
 * vendor tree, since no registered type names this framing) rather than a parameter on
 * `application/avro`: a reader that compares content-type with `application/avro` and does not know
 * the framing refuses a framed record instead of decoding its five prefix bytes as the first fields of
 * an event, which could yield a plausible wrong event rather than an error.
 */
export const CONTENT_TYPE_AVRO_CONFLUENT = 'application/vnd.tributary.avro+confluent';

export type Framing = 'raw' | 'confluent';

/** The byte a Confluent-framed value starts with. */
export const CONFLUENT_MAGIC_BYTE = 0;
/** The magic byte and the 4-byte id before the Avro body. */
export const CONFLUENT_PREFIX_BYTES = 5;
/** Registry ids are Java ints, and registries hand out positive ones. */
export const SCHEMA_ID_MAX = 2 ** 31 - 1;
const FINGERPRINT = /^[0-9a-f]{64}$/;

/** The problem with a schema id map, naming the entry and the rule; thrown by SchemaIdBook.of. */
export class SchemaIdBookError extends Error {
  override readonly name = 'SchemaIdBookError';
}

/**
 * The schema registry's id of every writer schema this process knows, keyed by the schema's SHA-256
 * fingerprint (lowercase hex, as in ce_dataschema and the schema catalog). Immutable once built.
 */
export class SchemaIdBook {
  private constructor(private readonly ids: ReadonlyMap<string, number>) {}

  /**
   * Checks and keeps a fingerprint -> registry id map: every id a positive int32, every fingerprint
   * 64 lowercase hex digits, and every writer schema of this build (every version of every event type)
   * present, so a writer never meets a schema without an id halfway through a batch. Fingerprints this
   * build does not know are kept (a newer deployment may have registered newer schemas). Two
   * fingerprints may share an id: a registry that canonicalizes schemas its own way may give two of
   * ours that differ only in what Avro's parsing form drops the same id, and either decodes the record.
   */
  static of(ids: ReadonlyMap<string, number> | Readonly<Record<string, number>>): SchemaIdBook {
    const entries = ids instanceof Map ? [...ids.entries()] : Object.entries(ids);
    const problems: string[] = [];
    const book = new Map<string, number>();
    for (const [fingerprint, id] of entries) {
      if (!FINGERPRINT.test(fingerprint)) {
        problems.push(
          `${JSON.stringify(fingerprint).slice(0, 80)}: must be a SHA-256 fingerprint, 64 lowercase hex digits`,
        );
      } else if (!Number.isInteger(id) || id < 1 || id > SCHEMA_ID_MAX) {
        problems.push(`${fingerprint}: registry id must be an integer from 1 to ${SCHEMA_ID_MAX}`);
      } else {
        book.set(fingerprint, id);
      }
    }
    const given = new Set(entries.map(([fingerprint]) => fingerprint));
    for (const contract of listEventContracts()) {
      for (const version of contract.versions.values()) {
        if (!given.has(version.fingerprintSha256))
          problems.push(
            `${version.fingerprintSha256}: missing (${contract.eventType} v${version.version} has no registry id)`,
          );
      }
    }
    if (problems.length > 0) {
      const shown = problems.slice(0, 10).join('; ');
      const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
      throw new SchemaIdBookError(`schema ids: ${shown}${more}`);
    }
    return new SchemaIdBook(book);
  }

  /** The registry id of a fingerprint, or undefined when the book does not hold it. */
  idOf(fingerprint: string): number | undefined {
    return this.ids.get(fingerprint);
  }

  /** How many fingerprints the book holds. */
  get size(): number {
    return this.ids.size;
  }
}

let installed: SchemaIdBook | null = null;

/**
 * Makes every record this process writes with toRecord Confluent-framed from now on, with these ids (a
 * SchemaIdBook, or the map to check and build one from). Called once at start-up, after the schemas are
 * registered and before any producer sends; installing again replaces the book. Throws
 * SchemaIdBookError when the map does not hold a valid id for every writer schema.
 */
export function installSchemaIds(
  ids: SchemaIdBook | ReadonlyMap<string, number> | Readonly<Record<string, number>>,
): SchemaIdBook {
  installed = ids instanceof SchemaIdBook ? ids : SchemaIdBook.of(ids);
  return installed;
}

/** The installed book, or null while none is (records are written raw). */
export function installedSchemaIds(): SchemaIdBook | null {
  return installed;
}

/** Back to raw records (tests; a process that loses its registry has no reason to stop framing). */
export function uninstallSchemaIds(): void {
  installed = null;
}

/** The framing a content-type names, or null when it names neither. */
export function framingOf(contentType: string | undefined): Framing | null {
  if (contentType === CONTENT_TYPE_AVRO) return 'raw';
  if (contentType === CONTENT_TYPE_AVRO_CONFLUENT) return 'confluent';
  return null;
}

/** The content-type header value of a framing. */
export function contentTypeOf(framing: Framing): string {
  return framing === 'confluent' ? CONTENT_TYPE_AVRO_CONFLUENT : CONTENT_TYPE_AVRO;
}

/**
 * The Avro body of a record toRecord built (its value without the Confluent prefix, a view, no copy): what
 * a hash of an event's content covers, so the same event has the same hash in either framing.
 */
export function avroBodyOf(record: {
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}): Buffer {
  return record.headers['content-type'] === CONTENT_TYPE_AVRO_CONFLUENT
    ? record.value.subarray(CONFLUENT_PREFIX_BYTES)
    : record.value;
}

/** Writes the 5-byte Confluent prefix at the start of `target`. */
export function writeConfluentPrefix(target: Buffer, schemaId: number): void {
  target[0] = CONFLUENT_MAGIC_BYTE;
  target.writeInt32BE(schemaId, 1);
}

/** A framed value split: the registry id it names and its Avro body (a view of the same bytes, no copy). */
export interface ConfluentFrame {
  readonly schemaId: number;
  readonly body: Buffer;
}

/**
 * Splits a Confluent-framed value, refusing (ContractError on `value`, rule `malformed`) one shorter
 * than its prefix, one whose first byte is not the magic byte, and one whose id is not a positive int32.
 * `eventType` and `version` only label the error.
 */
export function readConfluentFrame(value: Buffer, eventType: string, version: number | undefined): ConfluentFrame {
  if (value.length < CONFLUENT_PREFIX_BYTES)
    frameRefused(
      eventType,
      version,
      `is ${value.length} bytes: a ${CONTENT_TYPE_AVRO_CONFLUENT} value starts with a ${CONFLUENT_PREFIX_BYTES}-byte prefix`,
    );
  if (value[0] !== CONFLUENT_MAGIC_BYTE)
    frameRefused(
      eventType,
      version,
      `starts with byte ${value[0]}: a ${CONTENT_TYPE_AVRO_CONFLUENT} value starts with the magic byte ${CONFLUENT_MAGIC_BYTE}`,
    );
  const schemaId = value.readInt32BE(1);
  if (schemaId < 1)
    frameRefused(eventType, version, `names registry id ${schemaId}: registry ids are from 1 to ${SCHEMA_ID_MAX}`);
  return { schemaId, body: value.subarray(CONFLUENT_PREFIX_BYTES) };
}

/** Out of line: the path of a good record builds no closure and no message. */
function frameRefused(eventType: string, version: number | undefined, message: string): never {
  throw new ContractError(eventType, version, [{ path: 'value', rule: 'malformed', message }]);
}
