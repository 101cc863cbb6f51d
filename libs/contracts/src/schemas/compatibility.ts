// Proves that each schema version can be read by the previous version's readers and vice versa
// (full compatibility), so analytics consumers and services can upgrade in any order. avsc's resolver
// is the final proof, but its errors name no field ("no matching field for default-less ..."), so we
// first walk both record trees ourselves to say which field broke which rule, then build the
// resolvers in both directions to catch anything the walk does not model.
import { parseAvroType } from './avro-type';
import { fieldLimits, type Limits } from './validation';
import {
  describeNode,
  type FieldNode,
  type JsonObject,
  parseRecordTree,
  type RecordNode,
  type SchemaNode,
} from './schema-tree';
import { KEY_ATTRIBUTE, type SchemaCatalog, TOPIC_ATTRIBUTE } from './schema-files';

export type CompatibilityDirection = 'backward' | 'forward';

export interface CompatibilityIssue {
  readonly eventType: string;
  readonly olderVersion: number;
  readonly newerVersion: number;
  readonly direction: CompatibilityDirection | 'both';
  /** Field path such as `postings[].amountMinor`; empty for the record itself. */
  readonly path: string;
  readonly message: string;
}

export interface VersionedSchema {
  readonly version: number;
  readonly schema: JsonObject;
}

export class SchemaCompatibilityError extends Error {
  override readonly name = 'SchemaCompatibilityError';

  constructor(readonly issues: readonly CompatibilityIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(issue: CompatibilityIssue): string {
  return `${issue.eventType} v${issue.newerVersion}: ${issue.message}`;
}

/** Every consecutive pair of versions of every event in the catalog. */
export function checkCatalogCompatibility(catalog: SchemaCatalog): CompatibilityIssue[] {
  return catalog.events.flatMap((event) =>
    event.versions.slice(1).flatMap((newer, index) => {
      const older = event.versions[index];
      return older === undefined ? [] : checkCompatibility(event.eventType, older, newer);
    }),
  );
}

export function assertCatalogCompatible(catalog: SchemaCatalog): void {
  const issues = checkCatalogCompatibility(catalog);
  if (issues.length > 0) throw new SchemaCompatibilityError(issues);
}

/** Issues that make `newer` not fully (backward and forward) compatible with `older`. */
export function checkCompatibility(
  eventType: string,
  older: VersionedSchema,
  newer: VersionedSchema,
): CompatibilityIssue[] {
  const pair = { eventType, olderVersion: older.version, newerVersion: newer.version };
  const olderTree = parseRecordTree(older.schema);
  const newerTree = parseRecordTree(newer.schema);
  const issues = [
    ...checkRouting(older.schema, newer.schema).map((message) => ({
      ...pair,
      direction: 'both' as const,
      path: '',
      message,
    })),
    ...walkDirection(pair, 'backward', newerTree, olderTree),
    ...walkDirection(pair, 'forward', olderTree, newerTree),
    ...checkLimitsFrozen(pair, olderTree, newerTree),
  ];
  return [...issues, ...resolverProof(pair, older.schema, newer.schema, issues)];
}

type Pair = Pick<CompatibilityIssue, 'eventType' | 'olderVersion' | 'newerVersion'>;

/** Topic and key are part of the contract: moving an event would split its history in two. */
function checkRouting(older: JsonObject, newer: JsonObject): string[] {
  return [TOPIC_ATTRIBUTE, KEY_ATTRIBUTE]
    .filter((attribute) => older[attribute] !== newer[attribute])
    .map(
      (attribute) =>
        `'${attribute}' changed ${String(older[attribute])} -> ${String(newer[attribute])} (events of one type must keep their topic and key)`,
    );
}

interface WalkContext {
  readonly pair: Pair;
  readonly direction: CompatibilityDirection;
  readonly issues: CompatibilityIssue[];
  /** Record pairs already walked, so recursive records terminate. */
  readonly visited: Set<string>;
}

function walkDirection(
  pair: Pair,
  direction: CompatibilityDirection,
  reader: RecordNode,
  writer: RecordNode,
): CompatibilityIssue[] {
  const context: WalkContext = { pair, direction, issues: [], visited: new Set() };
  compareRecords(context, reader, writer, '');
  return context.issues;
}

function consequence(context: WalkContext): string {
  const { olderVersion, newerVersion } = context.pair;
  return context.direction === 'backward'
    ? `breaks backward compatibility: v${newerVersion} readers cannot read v${olderVersion} records`
    : `breaks forward compatibility: v${olderVersion} readers cannot read v${newerVersion} records`;
}

function report(context: WalkContext, path: string, message: string): void {
  context.issues.push({
    ...context.pair,
    direction: context.direction,
    path,
    message: `${message} (${consequence(context)})`,
  });
}

function compareRecords(context: WalkContext, reader: RecordNode, writer: RecordNode, path: string): void {
  const visitKey = `${reader.fullName}<-${writer.fullName}`;
  if (context.visited.has(visitKey)) return;
  context.visited.add(visitKey);
  if (reader.fullName !== writer.fullName && !reader.aliases.includes(writer.fullName)) {
    report(context, path, `record '${writer.fullName}' renamed to '${reader.fullName}' without alias`);
    return;
  }
  const matchedWriterFields = new Set<string>();
  for (const readerField of reader.fields) {
    const writerField = findWriterField(readerField, writer);
    if (writerField !== undefined) {
      matchedWriterFields.add(writerField.name);
      compareTypes(context, readerField.type, writerField.type, joinPath(path, readerField.name));
    }
  }
  const unmatchedWriterFields = writer.fields.filter((field) => !matchedWriterFields.has(field.name));
  for (const readerField of reader.fields) {
    if (findWriterField(readerField, writer) === undefined && !readerField.hasDefault) {
      reportMissingField(context, readerField, unmatchedWriterFields, path);
    }
  }
}

/** Avro matches a reader field to the writer field of the same name, or of one of the reader's aliases. */
function findWriterField(readerField: FieldNode, writer: RecordNode): FieldNode | undefined {
  const names = [readerField.name, ...readerField.aliases];
  return writer.fields.find((field) => names.includes(field.name));
}

function reportMissingField(
  context: WalkContext,
  readerField: FieldNode,
  unmatched: readonly FieldNode[],
  path: string,
): void {
  const name = joinPath(path, readerField.name);
  const renamedFrom = unmatched.find((field) => describeNode(field.type) === describeNode(readerField.type));
  if (context.direction === 'backward') {
    const message =
      renamedFrom === undefined
        ? `field '${name}' added without a default`
        : `field '${joinPath(path, renamedFrom.name)}' renamed to '${name}' without alias`;
    return report(context, name, message);
  }
  if (renamedFrom === undefined) {
    return report(
      context,
      name,
      `field '${name}' removed but v${context.pair.olderVersion} declares no default for it`,
    );
  }
  const renamedTo = joinPath(path, renamedFrom.name);
  const message = renamedFrom.aliases.includes(readerField.name)
    ? `field '${name}' renamed to '${renamedTo}': the alias only helps new readers, and '${name}' has no default in v${context.pair.olderVersion}`
    : `field '${name}' renamed to '${renamedTo}' without alias`;
  report(context, name, message);
}

function compareTypes(context: WalkContext, reader: SchemaNode, writer: SchemaNode, path: string): void {
  // Every branch the writer may have used must be readable by some branch of the reader.
  const writerBranches = writer.kind === 'union' ? writer.branches : [writer];
  const matches = writerBranches.map((branch) => ({ writer: branch, reader: readerBranchFor(reader, branch) }));
  if (matches.some((match) => match.reader === undefined)) {
    return report(context, path, `field '${path}' changed type ${describeNode(writer)} -> ${describeNode(reader)}`);
  }
  for (const match of matches) {
    if (match.reader !== undefined) compareSameKind(context, match.reader, match.writer, path);
  }
}

function readerBranchFor(reader: SchemaNode, writer: SchemaNode): SchemaNode | undefined {
  if (reader.kind === 'union') return reader.branches.find((branch) => sameKind(branch, writer));
  return sameKind(reader, writer) ? reader : undefined;
}

function compareSameKind(context: WalkContext, reader: SchemaNode, writer: SchemaNode, path: string): void {
  if (reader.kind === 'record' && writer.kind === 'record') return compareRecords(context, reader, writer, path);
  if (reader.kind === 'array' && writer.kind === 'array')
    return compareTypes(context, reader.items, writer.items, `${path}[]`);
  if (reader.kind === 'map' && writer.kind === 'map')
    return compareTypes(context, reader.values, writer.values, `${path}{}`);
  if (reader.kind === 'enum' && writer.kind === 'enum' && reader.defaultSymbol === undefined) {
    const unknown = writer.symbols.filter((symbol) => !reader.symbols.includes(symbol));
    if (unknown.length > 0)
      report(
        context,
        path,
        `enum '${reader.fullName}' at '${path}' lacks symbol(s) ${unknown.join(', ')} and declares no default`,
      );
  }
}

/** Whether a reader type can read a writer type at this level (Avro's matching and promotion rules). */
function sameKind(reader: SchemaNode, writer: SchemaNode): boolean {
  if (reader.kind === 'primitive' && writer.kind === 'primitive') return promotable(writer.name, reader.name);
  if (reader.kind !== writer.kind) return false;
  if (reader.kind === 'record' || reader.kind === 'enum' || reader.kind === 'fixed') {
    const writerName = (writer as typeof reader).fullName;
    return reader.fullName === writerName || ('aliases' in reader && reader.aliases.includes(writerName));
  }
  return true;
}

const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function promotable(writer: string, reader: string): boolean {
  return writer === reader || (PROMOTIONS[writer] ?? []).includes(reader);
}

/**
 * Limits are part of the contract: tightening one makes new readers refuse old records, loosening one
 * makes old readers refuse new records. Either way a record somebody accepted becomes poison.
 */
function checkLimitsFrozen(pair: Pair, older: RecordNode, newer: RecordNode): CompatibilityIssue[] {
  const issues: CompatibilityIssue[] = [];
  const walk = (olderRecord: RecordNode, newerRecord: RecordNode, path: string): void => {
    for (const newerField of newerRecord.fields) {
      const olderField = findWriterField(newerField, olderRecord);
      if (olderField === undefined) continue;
      const name = joinPath(path, newerField.name);
      for (const message of limitChanges(fieldLimits(olderField), fieldLimits(newerField))) {
        issues.push({
          ...pair,
          direction: 'both',
          path: name,
          message: `field '${name}' changed limit ${message} (limits are frozen once published)`,
        });
      }
      const [olderRecordType, newerRecordType] = [innerRecord(olderField.type), innerRecord(newerField.type)];
      if (olderRecordType !== undefined && newerRecordType !== undefined) walk(olderRecordType, newerRecordType, name);
    }
  };
  walk(older, newer, '');
  return issues;
}

function limitChanges(older: Limits, newer: Limits): string[] {
  const keys = ['min', 'max', 'minLength', 'maxLength', 'maxItems'] as const;
  return keys
    .filter((key) => older[key] !== newer[key])
    .map((key) => `tributary.${key} ${String(older[key] ?? 'none')} -> ${String(newer[key] ?? 'none')}`);
}

/** The record inside a field type (directly, nullable, or as array items), for walking nested limits. */
function innerRecord(node: SchemaNode): RecordNode | undefined {
  if (node.kind === 'record') return node;
  if (node.kind === 'array') return innerRecord(node.items);
  if (node.kind === 'union') return node.branches.map(innerRecord).find((record) => record !== undefined);
  return undefined;
}

/**
 * The final proof: avsc must be able to build a resolver each way. A refusal the walk did not
 * explain is still reported, with avsc's own words.
 */
function resolverProof(
  pair: Pair,
  older: JsonObject,
  newer: JsonObject,
  found: readonly CompatibilityIssue[],
): CompatibilityIssue[] {
  const olderType = parseAvroType(older);
  const newerType = parseAvroType(newer);
  const attempts: Array<[CompatibilityDirection, () => unknown]> = [
    ['backward', () => newerType.createResolver(olderType)],
    ['forward', () => olderType.createResolver(newerType)],
  ];
  const issues: CompatibilityIssue[] = [];
  for (const [direction, attempt] of attempts) {
    try {
      attempt();
    } catch (error) {
      if (found.some((issue) => issue.direction === direction)) continue;
      const context: WalkContext = { pair, direction, issues, visited: new Set() };
      report(context, '', `avsc refuses to resolve the two versions: ${(error as Error).message}`);
    }
  }
  return issues;
}

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}
