// Proves every .avsc file in schemas/ keeps the house rules analytics consumers and services rely on
// (docs everywhere, a bound on every string and array, integers for money and scores, routing
// attributes) by walking each assembled schema tree.
import { parseAvroType } from './avro-type';
import { loadSchemaCatalog } from './schema-files';
import { type FieldNode, nonNullBranch, parseRecordTree, type RecordNode, type SchemaNode } from './schema-tree';
import { fieldLimits, typeLimits } from './validation';

const catalog = loadSchemaCatalog();
const versions = catalog.events.flatMap((event) =>
  event.versions.map((version) => ({
    event,
    version,
    label: `${event.eventType} v${version.version}`,
    tree: parseRecordTree(version.schema),
  })),
);

interface VisitedField {
  readonly path: string;
  readonly field: FieldNode;
}

/** Every field of a record and of the records nested in it, with its path. */
function allFields(record: RecordNode, path = ''): VisitedField[] {
  return record.fields.flatMap((field) => {
    const here = path === '' ? field.name : `${path}.${field.name}`;
    const nested = nestedRecords(field.type).flatMap((inner) => allFields(inner, `${here}[]`));
    return [{ path: here, field }, ...nested];
  });
}

function nestedRecords(node: SchemaNode): RecordNode[] {
  if (node.kind === 'record') return [node];
  if (node.kind === 'array') return nestedRecords(node.items);
  if (node.kind === 'union') return node.branches.flatMap(nestedRecords);
  return [];
}

function allNodes(node: SchemaNode, seen = new Set<SchemaNode>()): SchemaNode[] {
  if (seen.has(node)) return [];
  seen.add(node);
  const children: SchemaNode[] =
    node.kind === 'record'
      ? node.fields.map((field) => field.type)
      : node.kind === 'array'
        ? [node.items]
        : node.kind === 'map'
          ? [node.values]
          : node.kind === 'union'
            ? [...node.branches]
            : [];
  return [node, ...children.flatMap((child) => allNodes(child, seen))];
}

describe('given the schemas in schemas/', () => {
  it('finds every event type of the design, each under its domain', () => {
    expect(catalog.events.map((event) => `${event.domain}/${event.eventType}`).sort()).toEqual([
      'attributions/InferenceAttributed',
      'contributions/ContributionRevoked',
      'contributions/ContributionSubmitted',
      'contributions/ContributionValidated',
      'datanets/DatanetCreated',
      'datanets/DatanetUpdated',
      'funding/FundsDeposited',
      'funding/FundsReversed',
      'inferences/InferenceCompleted',
      'models/ModelRegistered',
      'models/ModelRetired',
      'payouts/PayoutFailed',
      'payouts/PayoutRequested',
      'payouts/PayoutSettled',
    ]);
  });

  describe.each(versions)('$label', ({ event, tree, version }) => {
    it('parses with avsc as a self-contained schema', () => {
      expect(() => parseAvroType(version.schema)).not.toThrow();
    });

    it('documents the record, every nested type and every field', () => {
      const undocumented = [
        ...allNodes(tree)
          .filter((node) => (node.kind === 'record' || node.kind === 'enum') && !node.doc?.trim())
          .map((node) => describeNamed(node)),
        ...allFields(tree)
          .filter(({ field }) => (field.doc ?? '').trim().length < 20)
          .map(({ path }) => path),
      ];
      expect(undocumented).toEqual([]);
    });

    it('carries eventId, its key field and occurredAt as timestamp-millis', () => {
      const byName = new Map(tree.fields.map((field) => [field.name, field.type]));
      expect(byName.get('eventId')).toMatchObject({ kind: 'primitive', name: 'string' });
      expect(byName.get(event.keyField)).toMatchObject({ kind: 'primitive', name: 'string' });
      expect(byName.get('occurredAt')).toMatchObject({
        kind: 'primitive',
        name: 'long',
        logicalType: 'timestamp-millis',
      });
      expect(event.topic).toBe(`tributary.${event.domain}`);
    });

    it('bounds every string (1 to a documented max) and every array', () => {
      const unbounded = allFields(tree).flatMap(({ path, field }) => unboundedParts(path, field));
      expect(unbounded).toEqual([]);
    });

    it('uses no floating point anywhere', () => {
      const floats = allNodes(tree).filter(
        (node) => node.kind === 'primitive' && (node.name === 'float' || node.name === 'double'),
      );
      expect(floats).toEqual([]);
    });

    it('keeps money in non-negative long minor units, scores in ppm and shares in bps', () => {
      const offenders = allFields(tree).flatMap(({ path, field }) => unitViolations(path, field));
      expect(offenders).toEqual([]);
    });
  });
});

function describeNamed(node: SchemaNode): string {
  return node.kind === 'record' || node.kind === 'enum' ? node.fullName : node.kind;
}

function unboundedParts(path: string, field: FieldNode): string[] {
  const present = nonNullBranch(field.type);
  const limits = fieldLimits(field);
  if (present.kind === 'primitive' && present.name === 'string') {
    return limits.maxLength === undefined || limits.minLength !== 1
      ? [`${path}: string without tributary.minLength 1 and tributary.maxLength`]
      : [];
  }
  if (present.kind !== 'array') return [];
  const problems = limits.maxItems === undefined ? [`${path}: array without tributary.maxItems`] : [];
  const items = nonNullBranch(present.items);
  if (items.kind === 'primitive' && items.name === 'string' && typeLimits(present.items).maxLength === undefined) {
    problems.push(`${path}[]: string items without tributary.maxLength`);
  }
  return problems;
}

function unitViolations(path: string, field: FieldNode): string[] {
  const present = nonNullBranch(field.type);
  const typeName = present.kind === 'primitive' ? present.name : present.kind;
  const limits = fieldLimits(field);
  const rules: Array<[RegExp, string, (min?: bigint, max?: bigint) => boolean]> = [
    [/Minor$/, 'long', (min) => min !== undefined && min >= 0n],
    [/Ppm$/, 'long', (min, max) => min === 0n && max === 1_000_000n],
    [/Bps$/, 'int', (min, max) => min === 0n && max === 10_000n],
    [/(Bytes|Ms)$/, present.kind === 'primitive' && present.name === 'int' ? 'int' : 'long', (min) => min === 0n],
  ];
  return rules
    .filter(([pattern]) => pattern.test(field.name))
    .filter(([, expectedType, boundsOk]) => typeName !== expectedType || !boundsOk(limits.min, limits.max))
    .map(([pattern]) => `${path}: breaks the ${pattern.source} unit rule`);
}
