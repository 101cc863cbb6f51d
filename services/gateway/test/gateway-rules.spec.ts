// Proves the gateway's pure rules without a broker: the JSON wire format turns every int64 into an exact
// bigint (property-tested over the whole int64 range) and leaves anything else for validation to name,
// API key scopes allow exactly what they list, and the OpenAPI schemas carry the Avro limits.
import fc from 'fast-check';
import { INT64_MAX, INT64_MIN, validateEvent } from '@tributary/contracts';
import { generateApiKey, hashApiKey, looksLikeApiKey, scopeIssues, scopeProblems } from '../src/auth/api-key';
import { openApiSchemaOf } from '../src/ingest/openapi-schemas';
import { fromWire } from '../src/ingest/wire-format';

const inference = (overrides: Record<string, unknown> = {}) => ({
  eventId: 'e',
  inferenceId: 'i',
  occurredAt: 1,
  modelId: 'm',
  agentId: null,
  consumerId: 'c',
  asset: 'USDC',
  feeMinor: '10',
  attributions: [{ contributionId: 'c1', scorePpm: '5' }],
  method: 'x',
  latencyMs: null,
  ...overrides,
});

describe('the JSON wire format', () => {
  it('reads any int64 written as a decimal string, and any safe integer written as a number, exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (fee) => {
        const value = fromWire('InferenceCompleted', inference({ feeMinor: fee.toString() })) as { feeMinor: bigint };
        expect(value.feeMinor).toBe(fee);
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (size) => {
        expect((fromWire('InferenceCompleted', inference({ feeMinor: size })) as { feeMinor: bigint }).feeMinor).toBe(
          BigInt(size),
        );
      }),
    );
  });

  it('converts nested longs and fills omitted nullable fields, so a minimal body validates', () => {
    const { agentId: _a, latencyMs: _l, ...minimal } = inference();
    const value = fromWire('InferenceCompleted', minimal) as {
      attributions: Array<{ scorePpm: bigint }>;
      agentId: null;
    };
    expect(value.attributions[0]!.scorePpm).toBe(5n);
    expect(value.agentId).toBeNull();
    expect(validateEvent('InferenceCompleted', value)).toEqual([]);
  });

  it.each([['1.5'], [1.5], ['1e3'], ['0x10'], [' 10'], ['99999999999999999999'], [2 ** 60]])(
    'leaves %p for validation to refuse',
    (fee) => {
      const issues = validateEvent('InferenceCompleted', fromWire('InferenceCompleted', inference({ feeMinor: fee })));
      expect(issues.map((issue) => issue.path)).toContain('feeMinor');
    },
  );
});

describe('API keys', () => {
  it('are 256-bit secrets recognised by shape and stored as their SHA-256', () => {
    const created = generateApiKey();
    expect(looksLikeApiKey(created.key)).toBe(true);
    expect(created.keySha256).toBe(hashApiKey(created.key));
    expect(created.keySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(looksLikeApiKey('trb_nope')).toBe(false);
  });

  describe('given a scope of one datanet and one model', () => {
    const scope = {
      producerId: 'p',
      eventTypes: ['InferenceCompleted', 'ContributionSubmitted', 'ContributionValidated'],
      datanetIds: ['d1'],
      modelIds: ['m1'],
    };

    it('allows its own events and names the field of every other', () => {
      expect(scopeIssues(scope, 'InferenceCompleted', { modelId: 'm1' })).toEqual([]);
      expect(scopeIssues(scope, 'ContributionValidated', { contributionId: 'any' })).toEqual([]);
      expect(scopeIssues(scope, 'InferenceCompleted', { modelId: 'm2' })).toEqual([
        expect.objectContaining({ path: 'modelId', rule: 'modelNotAllowed' }),
      ]);
      expect(scopeIssues(scope, 'ContributionSubmitted', { datanetId: 'd2' })).toEqual([
        expect.objectContaining({ path: 'datanetId', rule: 'datanetNotAllowed' }),
      ]);
      expect(scopeIssues(scope, 'ModelRegistered', { modelId: 'm1' })).toEqual([
        expect.objectContaining({ rule: 'eventTypeNotAllowed' }),
      ]);
    });
  });

  it('refuses a scope that names an unknown or decision event type, a bad producer, or * beside names', () => {
    expect(
      scopeProblems({ producerId: 'ok', eventTypes: ['InferenceAttributed'], datanetIds: [], modelIds: [] })[0],
    ).toContain('event-types: "InferenceAttributed"');
    expect(scopeProblems({ producerId: 'has space', eventTypes: ['*'], datanetIds: ['*', 'd'], modelIds: [] })).toEqual(
      [expect.stringContaining('producer:'), 'datanets: * stands alone'],
    );
  });
});

describe('the OpenAPI schemas', () => {
  it('carry the Avro limits, nullability and int64 as integer or string', () => {
    const schema = openApiSchemaOf('InferenceCompleted') as { properties: Record<string, any>; required: string[] };
    expect(schema.properties['method']).toMatchObject({ type: 'string', minLength: 1, maxLength: 128 });
    expect(schema.properties['attributions']).toMatchObject({ type: 'array', maxItems: 1000 });
    expect(schema.properties['agentId']).toMatchObject({ type: 'string', nullable: true });
    expect(schema.properties['feeMinor'].oneOf).toEqual([
      expect.objectContaining({ type: 'integer', minimum: 0 }),
      expect.objectContaining({ type: 'string' }),
    ]);
    expect(schema.required).not.toContain('agentId');
  });
});
