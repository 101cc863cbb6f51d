// Validates an event value against one schema version. Avro itself only knows types, so validation
// runs in two passes: avsc's `isValid` (with an error hook collecting paths) finds missing fields
// and wrong types; then the limits the schema declares as custom attributes (`tributary.min`,
// `tributary.maxLength`, ...) are checked by walking the schema tree, so the .avsc file stays the
// single source of truth for both the shape and the bounds of every field.
import type { Type } from 'avsc';
import { isInt64, isLongValue } from './avro-type';
import { CONTRACT_ISSUES_MAX, type ContractIssue, type ContractRule } from './contract-error';
import {
  ATTRIBUTE_PREFIX,
  type Attributes,
  type FieldNode,
  isJsonObject,
  nonNullBranch,
  type RecordNode,
  type SchemaNode,
} from './schema-tree';

export const LIMIT_ATTRIBUTES = {
  min: `${ATTRIBUTE_PREFIX}min`,
  max: `${ATTRIBUTE_PREFIX}max`,
  minLength: `${ATTRIBUTE_PREFIX}minLength`,
  maxLength: `${ATTRIBUTE_PREFIX}maxLength`,
  maxItems: `${ATTRIBUTE_PREFIX}maxItems`,
  sum: `${ATTRIBUTE_PREFIX}sum`,
} as const;

/** Bounds of one value. Lengths count UTF-16 code units (JS `string.length`). */
export interface Limits {
  readonly min?: bigint;
  readonly max?: bigint;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
}

export class IssueList {
  private readonly collected: ContractIssue[] = [];

  get items(): readonly ContractIssue[] {
    return this.collected;
  }

  add(path: string, rule: ContractRule, message: string): void {
    if (this.collected.length < CONTRACT_ISSUES_MAX) this.collected.push({ path, rule, message });
  }
}

/** Both passes; an empty result means the value can be encoded with this version. */
export function validateValue(type: Type, tree: RecordNode, value: unknown): readonly ContractIssue[] {
  // Most values are valid: answer those with the two allocation-free predicates, and walk with paths
  // and messages only to explain a value one of them refused.
  if (type.isValid(value) && limitsHold(tree, value)) return NO_ISSUES;
  const issues = new IssueList();
  // The error hook makes avsc walk the whole value even when it is valid; most values are, so the
  // hook runs only to explain a value the plain check refused.
  if (!type.isValid(value)) {
    type.isValid(value, {
      errorHook: (path: string[], offending: unknown, offendingType: Type) => {
        const where = formatAvscPath(path);
        if (offending === undefined) issues.add(where, 'missingField', 'required field is missing');
        else
          issues.add(
            where,
            'wrongType',
            `expected ${describeAvscType(offendingType)}, got ${describeValue(offending)}`,
          );
      },
    });
  }
  checkRecord(tree, value, '', issues);
  return issues.items;
}

/**
 * The limits pass alone, for a value avsc itself just decoded: its shape is right by construction,
 * but a producer that skipped our encoder may still have written a value out of bounds.
 */
export function validateLimits(tree: RecordNode, value: unknown): readonly ContractIssue[] {
  return limitsHold(tree, value) ? NO_ISSUES : limitIssues(tree, value);
}

/** The limits walk itself, with a path and message per issue (what limitsHold answers in one bit). */
export function limitIssues(tree: RecordNode, value: unknown): readonly ContractIssue[] {
  const issues = new IssueList();
  checkRecord(tree, value, '', issues);
  return issues.items;
}

const NO_ISSUES: readonly ContractIssue[] = Object.freeze([]);

/**
 * True exactly when the limits pass (checkRecord) would find nothing: the same rules compiled once per
 * schema node into closures, with no path strings, issue objects or per-value schema lookups. The
 * walk below stays the one that explains a refusal; limits.spec-style tests hold the two to agreement.
 */
export function limitsHold(tree: RecordNode, value: unknown): boolean {
  return compiledRecord(tree)(value);
}

type Check = (value: unknown) => boolean;

const ALWAYS: Check = () => true;
const compiledRecords = new WeakMap<RecordNode, Check>();

function compiledRecord(record: RecordNode): Check {
  let check = compiledRecords.get(record);
  if (check === undefined) {
    // Registered before its fields compile, so a record that (indirectly) contains itself terminates.
    let compiled: Check | undefined;
    check = (value) => compiled!(value);
    compiledRecords.set(record, check);
    compiled = compileRecord(record);
  }
  return check;
}

function compileRecord(record: RecordNode): Check {
  const declared = declaredFields(record);
  const names = record.fields.map((field) => field.name);
  const checks = record.fields.map((field) => compileNode(field.type, fieldLimits(field)));
  const sum = compileSum(record);
  const hasOwn = Object.prototype.hasOwnProperty;
  return (value) => {
    if (!isPlainRecord(value)) return true;
    for (const key in value) {
      if (!declared.has(key) && hasOwn.call(value, key)) return false;
    }
    for (let index = 0; index < checks.length; index += 1) {
      if (!checks[index]!(value[names[index]!])) return false;
    }
    return sum(value);
  };
}

function compileNode(node: SchemaNode, limits: Limits): Check {
  const present = nonNullBranch(node);
  let check: Check;
  switch (present.kind) {
    case 'primitive':
      check = compilePrimitive(limits);
      break;
    case 'record':
      check = compiledRecord(present);
      break;
    case 'array':
      check = compileArray(present.items, limits);
      break;
    case 'map':
      check = compileMap(present.values);
      break;
    case 'enum':
    case 'fixed':
    case 'union':
      return ALWAYS;
  }
  if (check === ALWAYS) return ALWAYS;
  return (value) => value === null || value === undefined || check(value);
}

function compilePrimitive(limits: Limits): Check {
  const { min, max, minLength, maxLength } = limits;
  if (min === undefined && max === undefined && minLength === undefined && maxLength === undefined) return ALWAYS;
  return (value) => {
    if (typeof value === 'string') {
      return (
        (maxLength === undefined || value.length <= maxLength) && (minLength === undefined || value.length >= minLength)
      );
    }
    if (typeof value === 'bigint') return (min === undefined || value >= min) && (max === undefined || value <= max);
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      // Comparing a number with a bigint is exact in JS (no conversion of either side).
      return (min === undefined || value >= min) && (max === undefined || value <= max);
    }
    return true;
  };
}

function compileArray(items: SchemaNode, limits: Limits): Check {
  const { maxItems } = limits;
  const item = compileNode(items, typeLimits(items));
  if (maxItems === undefined && item === ALWAYS) return ALWAYS;
  return (value) => {
    if (!Array.isArray(value)) return true;
    if (maxItems !== undefined && value.length > maxItems) return false;
    if (item === ALWAYS) return true;
    for (let index = 0; index < value.length; index += 1) {
      if (!item(value[index])) return false;
    }
    return true;
  };
}

function compileMap(values: SchemaNode): Check {
  const item = compileNode(values, typeLimits(values));
  if (item === ALWAYS) return ALWAYS;
  return (value) => {
    if (!isPlainRecord(value)) return true;
    for (const key of Object.keys(value)) {
      if (!item(value[key])) return false;
    }
    return true;
  };
}

function compileSum(record: RecordNode): (value: Record<string, unknown>) => boolean {
  const rule = record.attributes[LIMIT_ATTRIBUTES.sum];
  if (!isJsonObject(rule) || !Array.isArray(rule['fields']) || typeof rule['equals'] !== 'number') return ALWAYS;
  const names = rule['fields'].map(String);
  const equals = BigInt(rule['equals']);
  return (value) => {
    let total = 0n;
    for (const name of names) {
      const part = value[name];
      if (!isLongValue(part)) return true;
      total += BigInt(part);
    }
    return total === equals;
  };
}

function limitsOf(attributes: Attributes): Limits {
  const read = (key: string): number | undefined => {
    const value = attributes[key];
    return typeof value === 'number' ? value : undefined;
  };
  const min = read(LIMIT_ATTRIBUTES.min);
  const max = read(LIMIT_ATTRIBUTES.max);
  return {
    ...(min === undefined ? {} : { min: BigInt(min) }),
    ...(max === undefined ? {} : { max: BigInt(max) }),
    ...optional('minLength', read(LIMIT_ATTRIBUTES.minLength)),
    ...optional('maxLength', read(LIMIT_ATTRIBUTES.maxLength)),
    ...optional('maxItems', read(LIMIT_ATTRIBUTES.maxItems)),
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

// Schema trees are immutable once parsed, so what is derived from a node is computed once per node,
// not once per validated value: validation runs on every record a service sends or receives.
const typeLimitsCache = new WeakMap<SchemaNode, Limits>();
const fieldLimitsCache = new WeakMap<FieldNode, Limits>();
const declaredFieldsCache = new WeakMap<RecordNode, ReadonlySet<string>>();

/** Limits of a type node; for a nullable union, those of the type the value has when present. */
export function typeLimits(node: SchemaNode): Limits {
  let limits = typeLimitsCache.get(node);
  if (limits === undefined) {
    const present = nonNullBranch(node);
    limits =
      present.kind === 'union' || present.kind === 'record' || present.kind === 'enum' || present.kind === 'fixed'
        ? {}
        : limitsOf(present.attributes);
    typeLimitsCache.set(node, limits);
  }
  return limits;
}

/** A field's limits: those written on the field win over those written on its type. */
export function fieldLimits(field: FieldNode): Limits {
  let limits = fieldLimitsCache.get(field);
  if (limits === undefined) {
    limits = { ...typeLimits(field.type), ...limitsOf(field.attributes) };
    fieldLimitsCache.set(field, limits);
  }
  return limits;
}

function declaredFields(record: RecordNode): ReadonlySet<string> {
  let declared = declaredFieldsCache.get(record);
  if (declared === undefined) {
    declared = new Set(record.fields.map((field) => field.name));
    declaredFieldsCache.set(record, declared);
  }
  return declared;
}

function checkRecord(record: RecordNode, value: unknown, path: string, issues: IssueList): void {
  // Wrong shapes were reported by avsc; limits only make sense on a value of the right shape.
  if (!isPlainRecord(value)) return;
  const declared = declaredFields(record);
  for (const key of Object.keys(value)) {
    if (!declared.has(key))
      issues.add(joinPath(path, key), 'unknownField', `field is not declared by ${record.fullName}`);
  }
  for (const field of record.fields) {
    checkNode(field.type, value[field.name], joinPath(path, field.name), fieldLimits(field), issues);
  }
  checkSum(record, value, path, issues);
}

function checkNode(node: SchemaNode, value: unknown, path: string, limits: Limits, issues: IssueList): void {
  if (value === null || value === undefined) return;
  const present = nonNullBranch(node);
  switch (present.kind) {
    case 'primitive':
      return checkPrimitive(value, path, limits, issues);
    case 'record':
      return checkRecord(present, value, path, issues);
    case 'array':
      return checkArray(present.items, value, path, limits, issues);
    case 'map':
      return checkMap(present.values, value, path, issues);
    case 'enum':
    case 'fixed':
    case 'union':
      // Enums and fixed values are fully checked by avsc; general unions are not used by Tributary.
      return;
  }
}

function checkPrimitive(value: unknown, path: string, limits: Limits, issues: IssueList): void {
  if (typeof value === 'string') return checkLength(value, path, limits, issues);
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) {
    const exact = BigInt(value);
    if (limits.min !== undefined && exact < limits.min)
      issues.add(path, 'min', `must be >= ${limits.min} (got ${exact})`);
    if (limits.max !== undefined && exact > limits.max)
      issues.add(path, 'max', `must be <= ${limits.max} (got ${exact})`);
  }
}

function checkLength(value: string, path: string, limits: Limits, issues: IssueList): void {
  if (limits.maxLength !== undefined && value.length > limits.maxLength) {
    issues.add(path, 'maxLength', `must be at most ${limits.maxLength} characters long (got ${value.length})`);
  }
  if (limits.minLength !== undefined && value.length < limits.minLength) {
    issues.add(
      path,
      'minLength',
      limits.minLength === 1
        ? 'must not be empty'
        : `must be at least ${limits.minLength} characters long (got ${value.length})`,
    );
  }
}

function checkArray(items: SchemaNode, value: unknown, path: string, limits: Limits, issues: IssueList): void {
  if (!Array.isArray(value)) return;
  if (limits.maxItems !== undefined && value.length > limits.maxItems) {
    // The items are not walked: the bound exists precisely so that work per event stays bounded.
    issues.add(path, 'maxItems', `must have at most ${limits.maxItems} items (got ${value.length})`);
    return;
  }
  const itemLimits = typeLimits(items);
  value.forEach((item: unknown, index) => checkNode(items, item, `${path}[${index}]`, itemLimits, issues));
}

function checkMap(values: SchemaNode, value: unknown, path: string, issues: IssueList): void {
  if (!isPlainRecord(value)) return;
  const valueLimits = typeLimits(values);
  for (const [key, item] of Object.entries(value)) {
    checkNode(values, item, `${path}[${JSON.stringify(key)}]`, valueLimits, issues);
  }
}

/** `tributary.sum: {fields, equals}` on a record: the named integer fields must add up exactly. */
function checkSum(record: RecordNode, value: Record<string, unknown>, path: string, issues: IssueList): void {
  const rule = record.attributes[LIMIT_ATTRIBUTES.sum];
  if (!isJsonObject(rule) || !Array.isArray(rule['fields']) || typeof rule['equals'] !== 'number') return;
  const names = rule['fields'].map(String);
  const parts = names.map((name) => value[name]);
  if (!parts.every(isLongValue)) return;
  const total = parts.reduce<bigint>((sum, part) => sum + BigInt(part), 0n);
  if (total !== BigInt(rule['equals'])) {
    issues.add(path, 'sum', `${names.join(' + ')} must equal ${rule['equals']} (got ${total})`);
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** avsc paths are lists of field names and array indices; render them as `postings[2].amountMinor`. */
export function formatAvscPath(segments: readonly string[]): string {
  return segments.reduce(
    (path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : joinPath(path, segment)),
    '',
  );
}

function describeAvscType(type: Type): string {
  const typeName = type.typeName;
  if (typeName === 'abstract:long') return 'long (a bigint, or a safe-integer number)';
  if (typeName.startsWith('union')) {
    return (type as unknown as { types: Type[] }).types.map(describeAvscType).join(' or ');
  }
  if (typeName === 'enum') return `one of ${(type as unknown as { symbols: string[] }).symbols.join(', ')}`;
  if (typeName === 'record') return `a record ${type.name ?? ''}`.trim();
  return typeName;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return 'a number beyond 2^53 (pass a bigint)';
  if (typeof value === 'bigint') return isInt64(value) ? 'a bigint' : 'a bigint outside the int64 range';
  return `a ${typeof value}`;
}
