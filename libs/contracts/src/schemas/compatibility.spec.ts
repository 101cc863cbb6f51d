// Proves every schema version in schemas/ is fully (backward and forward) compatible with the one
// before it, and that breaking changes are caught with a message naming the schema, the field and
// the rule, by running the checker on the real catalog and on mutated copies of a real schema.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAvroType } from './avro-type';
import {
  assertCatalogCompatible,
  checkCatalogCompatibility,
  checkCompatibility,
  formatIssue,
  SchemaCompatibilityError,
} from './compatibility';
import { DEFAULT_SCHEMAS_DIR, loadSchemaCatalog } from './schema-files';
import { type JsonObject } from './schema-tree';
import { SAMPLE_EVENTS } from './sample-events.fixture';

const catalog = loadSchemaCatalog();
const inferenceCompleted = catalog.events.find((event) => event.eventType === 'InferenceCompleted');
const [v1, v2] = inferenceCompleted?.versions ?? [];
if (v1 === undefined || v2 === undefined) throw new Error('InferenceCompleted v1 and v2 must exist');

/** A v2 made by editing a deep copy of v1, checked against v1; returns the formatted messages. */
function messagesFor(edit: (fields: Record<string, unknown>[], schema: Record<string, unknown>) => void): string[] {
  const schema = JSON.parse(JSON.stringify(v1?.schema)) as Record<string, unknown>;
  edit(schema['fields'] as Record<string, unknown>[], schema);
  return checkCompatibility(
    'InferenceCompleted',
    { version: 1, schema: v1!.schema },
    { version: 2, schema: schema as JsonObject },
  ).map(formatIssue);
}

function field(fields: Record<string, unknown>[], name: string): Record<string, unknown> {
  const found = fields.find((candidate) => candidate['name'] === name);
  if (found === undefined) throw new Error(`no field ${name}`);
  return found;
}

const BACKWARD = '(breaks backward compatibility: v2 readers cannot read v1 records)';
const FORWARD = '(breaks forward compatibility: v1 readers cannot read v2 records)';

describe('given every schema in schemas/ (the guard)', () => {
  it('checks every consecutive pair of versions and finds them all fully compatible', () => {
    const pairs = catalog.events.flatMap((event) =>
      event.versions.slice(1).map((version) => `${event.eventType} v${version.version}`),
    );
    expect(pairs).toContain('InferenceCompleted v2');
    expect(checkCatalogCompatibility(catalog).map(formatIssue)).toEqual([]);
  });
});

describe('given InferenceCompleted v2, which adds latencyMs with a default', () => {
  const v1Type = parseAvroType(v1.schema);
  const v2Type = parseAvroType(v2.schema);
  const { latencyMs, ...v1Value } = SAMPLE_EVENTS.InferenceCompleted;

  it('a v2 reader decodes a v1 record, filling latencyMs with null', () => {
    const decoded = v2Type.fromBuffer(v1Type.toBuffer(v1Value), v2Type.createResolver(v1Type));
    expect(decoded).toEqual({ ...v1Value, latencyMs: null });
  });

  it('a v1 reader decodes a v2 record, skipping latencyMs', () => {
    const decoded = v1Type.fromBuffer(v2Type.toBuffer({ ...v1Value, latencyMs }), v1Type.createResolver(v2Type));
    expect(decoded).toEqual(v1Value);
  });
});

describe('given a v2 with a breaking change', () => {
  it('catches a new field without a default', () => {
    expect(messagesFor((fields) => fields.push({ name: 'region', type: 'string', doc: 'Serving region.' }))).toEqual([
      `InferenceCompleted v2: field 'region' added without a default ${BACKWARD}`,
    ]);
  });

  it('catches a rename without an alias, both ways', () => {
    expect(messagesFor((fields) => (field(fields, 'feeMinor')['name'] = 'feeTotalMinor'))).toEqual([
      `InferenceCompleted v2: field 'feeMinor' renamed to 'feeTotalMinor' without alias ${BACKWARD}`,
      `InferenceCompleted v2: field 'feeMinor' renamed to 'feeTotalMinor' without alias ${FORWARD}`,
    ]);
  });

  it('explains that an alias alone does not let old readers follow a rename', () => {
    const messages = messagesFor((fields) =>
      Object.assign(field(fields, 'feeMinor'), { name: 'feeTotalMinor', aliases: ['feeMinor'] }),
    );
    expect(messages).toEqual([
      `InferenceCompleted v2: field 'feeMinor' renamed to 'feeTotalMinor': the alias only helps new readers, and 'feeMinor' has no default in v1 ${FORWARD}`,
    ]);
  });

  it('catches a type change, naming both types', () => {
    expect(messagesFor((fields) => (field(fields, 'feeMinor')['type'] = 'string'))).toEqual([
      `InferenceCompleted v2: field 'feeMinor' changed type long -> string ${BACKWARD}`,
      `InferenceCompleted v2: field 'feeMinor' changed type string -> long ${FORWARD}`,
    ]);
  });

  it('catches a narrowing deep inside an array of shared records, with its path', () => {
    const messages = messagesFor((fields) => {
      const items = (field(fields, 'attributions')['type'] as { items: { fields: Record<string, unknown>[] } }).items;
      field(items.fields, 'scorePpm')['type'] = 'int';
    });
    expect(messages).toEqual([
      `InferenceCompleted v2: field 'attributions[].scorePpm' changed type long -> int ${BACKWARD}`,
    ]);
  });

  it('catches a removed field that old readers still need', () => {
    expect(messagesFor((fields) => fields.splice(fields.indexOf(field(fields, 'method')), 1))).toEqual([
      `InferenceCompleted v2: field 'method' removed but v1 declares no default for it ${FORWARD}`,
    ]);
  });

  it('catches a changed limit: limits are part of the contract', () => {
    expect(messagesFor((fields) => (field(fields, 'method')['tributary.maxLength'] = 64))).toEqual([
      `InferenceCompleted v2: field 'method' changed limit tributary.maxLength 128 -> 64 (limits are frozen once published)`,
    ]);
  });

  it('catches a move to another topic', () => {
    expect(messagesFor((_, schema) => (schema['tributary.topic'] = 'tributary.models'))).toEqual([
      `InferenceCompleted v2: 'tributary.topic' changed tributary.inferences -> tributary.models (events of one type must keep their topic and key)`,
    ]);
  });

  it('catches an enum symbol removed from a reader that declares no default', () => {
    const validated = catalog.events.find((event) => event.eventType === 'ContributionValidated')!.versions[0]!.schema;
    const newer = JSON.parse(JSON.stringify(validated)) as {
      fields: Array<{ name: string; type: Record<string, unknown> }>;
    };
    const decision = newer.fields.find((candidate) => candidate.name === 'decision')!.type;
    Object.assign(decision, { symbols: ['ACCEPTED'], default: undefined });
    const messages = checkCompatibility(
      'ContributionValidated',
      { version: 1, schema: validated },
      { version: 2, schema: JSON.parse(JSON.stringify(newer)) as JsonObject },
    );
    expect(messages.map(formatIssue)).toEqual([
      "ContributionValidated v2: enum 'tributary.contributions.ValidationDecision' at 'decision' lacks symbol(s) REJECTED and declares no default (breaks backward compatibility: v2 readers cannot read v1 records)",
    ]);
  });
});

describe('given a change the field walk does not model', () => {
  it("still fails, through the avsc resolver, with avsc's reason", () => {
    const digest = (size: number): JsonObject => ({
      type: 'record',
      name: 'test.Digest',
      fields: [{ name: 'hash', type: { type: 'fixed', name: 'Hash', size } }],
    });
    const messages = checkCompatibility(
      'Digest',
      { version: 1, schema: digest(16) },
      { version: 2, schema: digest(32) },
    ).map(formatIssue);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(
      /^Digest v2: avsc refuses to resolve the two versions: .+ \(breaks backward compatibility/,
    );
  });
});

describe('given a schemas directory holding a breaking v2 (what `contracts:generate` and CI load)', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-schemas-'));
    fs.cpSync(DEFAULT_SCHEMAS_DIR, dir, { recursive: true });
    const v2File = path.join(dir, 'inferences/InferenceCompleted/v2.avsc');
    const broken = JSON.parse(fs.readFileSync(v2File, 'utf8')) as { fields: Array<Record<string, unknown>> };
    broken.fields.push({ name: 'agentRegion', type: 'string', doc: 'Region of the agent.' });
    fs.writeFileSync(v2File, JSON.stringify(broken));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses the catalog with an error naming the schema and the field', () => {
    const attempt = (): void => assertCatalogCompatible(loadSchemaCatalog(dir));
    expect(attempt).toThrow(SchemaCompatibilityError);
    expect(attempt).toThrow(`InferenceCompleted v2: field 'agentRegion' added without a default ${BACKWARD}`);
  });
});
