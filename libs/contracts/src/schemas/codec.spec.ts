// Proves the codecs round-trip every event type exactly, read old versions with the newest reader,
// and refuse invalid values and garbage with a ContractError naming each field and rule, using the
// sample events, hand-made bad values and fast-check ranges for amounts and lengths.
import fc from 'fast-check';
import { INT64_MAX } from './avro-type';
import { decodeEvent, encodeEvent, validateEvent } from './codec';
import { ContractError, type ContractIssue, type ContractRule } from './contract-error';
import { EVENT_TYPES, type InferenceCompleted, type InferenceCompletedV1 } from './generated/event-types';
import { getEventContract, getEventVersion } from './registry';
import { SAMPLE_EVENTS } from './sample-events.fixture';

const inference = SAMPLE_EVENTS.InferenceCompleted;

/** Runs `action` and returns the issues of the ContractError it must throw. */
function issuesOf(action: () => unknown): readonly ContractIssue[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ContractError) return error.issues;
    throw error;
  }
  throw new Error('expected a ContractError');
}

function encodeLoose(eventType: string, value: unknown): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed: the rule misreads the overloaded encodeEvent
  return (encodeEvent as (type: string, value: unknown) => Buffer)(eventType, value);
}

function rulesByPath(issues: readonly ContractIssue[]): Array<[string, ContractRule]> {
  return issues.map((issue) => [issue.path, issue.rule]);
}

describe('given a valid event of every type', () => {
  it.each(EVENT_TYPES)('%s: encode then decode gives the same value back', (eventType) => {
    const latestVersion = getEventContract(eventType).latestVersion;
    const encoded = encodeLoose(eventType, SAMPLE_EVENTS[eventType]);
    expect(decodeEvent(eventType, latestVersion, encoded)).toEqual(SAMPLE_EVENTS[eventType]);
  });

  it("writes the same bytes as avsc itself, for records far larger than the encoder's first scratch buffer too", () => {
    const sample = SAMPLE_EVENTS.InferenceAttributed;
    const seen = Array.from({ length: 1_000 }, (_, index) => ({
      ...sample.contributionsSeen[0]!,
      contributionId: `contribution-${index}-${'x'.repeat(200)}`,
    }));
    const large = { ...sample, contributionsSeen: seen };
    const type = getEventContract('InferenceAttributed').latest.avroType;
    for (const value of [sample, large, sample]) {
      const encoded = encodeEvent('InferenceAttributed', value);
      expect(encoded.equals(type.toBuffer(value))).toBe(true);
      expect(
        decodeEvent('InferenceAttributed', getEventContract('InferenceAttributed').latestVersion, encoded),
      ).toEqual(value);
    }
    expect(type.toBuffer(large).length).toBeGreaterThan(128 * 1024);
  });

  it('fills a field with a default when the producer leaves it out', () => {
    const { agentId, latencyMs, ...withoutOptional } = inference;
    void agentId;
    void latencyMs;
    const decoded = decodeEvent('InferenceCompleted', 2, encodeLoose('InferenceCompleted', withoutOptional));
    expect(decoded).toMatchObject({ agentId: null, latencyMs: null });
  });
});

describe('given a record written with an older schema version', () => {
  const { latencyMs, ...v1Value } = inference;
  void latencyMs;
  const writtenWithV1: InferenceCompletedV1 = v1Value;

  it('the newest reader decodes it, with the new field at its default', () => {
    const encoded = encodeEvent('InferenceCompleted', 1, writtenWithV1);
    const decoded: InferenceCompleted = decodeEvent('InferenceCompleted', 1, encoded);
    expect(decoded).toEqual({ ...writtenWithV1, latencyMs: null });
  });

  it('refuses to decode it as if it were the newest version', () => {
    const encoded = encodeEvent('InferenceCompleted', 1, writtenWithV1);
    expect(rulesByPath(issuesOf(() => decodeEvent('InferenceCompleted', 2, encoded)))).toEqual([['', 'malformed']]);
  });
});

describe('given invalid values', () => {
  it('names a missing field', () => {
    const { feeMinor, ...withoutFee } = inference;
    void feeMinor;
    expect(rulesByPath(issuesOf(() => encodeLoose('InferenceCompleted', withoutFee)))).toEqual([
      ['feeMinor', 'missingField'],
    ]);
  });

  it('names a field of the wrong type, and an undeclared field (a typo must not vanish)', () => {
    const issues = issuesOf(() => encodeLoose('InferenceCompleted', { ...inference, agentId: 42, fee: 1n }));
    expect(rulesByPath(issues)).toEqual([
      ['agentId', 'wrongType'],
      ['fee', 'unknownField'],
    ]);
    expect(issues[0]?.message).toBe('expected null or string, got a number');
  });

  it("names an int field given a bigint or a fraction as wrongType (avsc's own int check throws on a bigint)", () => {
    const datanet = SAMPLE_EVENTS.DatanetCreated;
    expect(rulesByPath(issuesOf(() => encodeLoose('DatanetCreated', { ...datanet, curatorShareBps: 2_000n })))).toEqual(
      [['curatorShareBps', 'wrongType']],
    );
    expect(rulesByPath(validateEvent('DatanetCreated', { ...datanet, curatorShareBps: 2_000n }))).toEqual([
      ['curatorShareBps', 'wrongType'],
    ]);
    expect(rulesByPath(issuesOf(() => encodeLoose('DatanetCreated', { ...datanet, curatorShareBps: 0.5 })))).toEqual([
      ['curatorShareBps', 'wrongType'],
    ]);
  });

  it('names a negative amount and an out-of-range score deep inside an array', () => {
    const issues = issuesOf(() =>
      encodeLoose('InferenceCompleted', {
        ...inference,
        feeMinor: -1n,
        attributions: [{ contributionId: 'c', scorePpm: 1_000_001n }],
      }),
    );
    expect(rulesByPath(issues)).toEqual([
      ['feeMinor', 'min'],
      ['attributions[0].scorePpm', 'max'],
    ]);
  });

  it('refuses a 10 MB string with its length, not its content', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const error = (() => {
      try {
        encodeLoose('ContributionRevoked', { ...SAMPLE_EVENTS.ContributionRevoked, reason: huge });
      } catch (caught) {
        return caught as ContractError;
      }
      throw new Error('expected a ContractError');
    })();
    expect(rulesByPath(error.issues)).toEqual([['reason', 'maxLength']]);
    expect(error.message).toBe('ContributionRevoked v1: reason: must be at most 4096 characters long (got 10485760)');
  });

  it('refuses an empty id and an array longer than its documented maximum', () => {
    const tooMany = Array.from({ length: 1001 }, (_, index) => ({ contributionId: `c${index}`, scorePpm: 1n }));
    const issues = issuesOf(() =>
      encodeLoose('InferenceCompleted', { ...inference, inferenceId: '', attributions: tooMany }),
    );
    expect(rulesByPath(issues)).toEqual([
      ['inferenceId', 'minLength'],
      ['attributions', 'maxItems'],
    ]);
  });

  it('refuses a revenue split that does not sum to 10000 bps', () => {
    const split = { protocolBps: 1000, modelBps: 4000, dataBps: 4000 };
    const issues = issuesOf(() => encodeLoose('ModelRegistered', { ...SAMPLE_EVENTS.ModelRegistered, split }));
    expect(issues).toEqual([
      { path: 'split', rule: 'sum', message: 'protocolBps + modelBps + dataBps must equal 10000 (got 9000)' },
    ]);
  });

  it('refuses an amount given as a number beyond 2^53, which has already lost precision', () => {
    const issues = issuesOf(() =>
      encodeLoose('PayoutRequested', { ...SAMPLE_EVENTS.PayoutRequested, amountMinor: 2 ** 60 }),
    );
    expect(issues).toEqual([
      {
        path: 'amountMinor',
        rule: 'wrongType',
        message: 'expected long (a bigint, or a safe-integer number), got a number beyond 2^53 (pass a bigint)',
      },
    ]);
  });

  it('refuses an unknown event type and an unknown version', () => {
    expect(rulesByPath(issuesOf(() => encodeLoose('InferenceExploded', inference)))).toEqual([
      ['', 'unknownEventType'],
    ]);
    expect(rulesByPath(issuesOf(() => decodeEvent('InferenceCompleted', 9, Buffer.alloc(0))))).toEqual([
      ['', 'unknownVersion'],
    ]);
  });

  it('reports every problem at once, so the producer can fix them in one go', () => {
    expect(
      validateEvent('PayoutRequested', { ...SAMPLE_EVENTS.PayoutRequested, amountMinor: 0n, epoch: -1, asset: '' }),
    ).toHaveLength(3);
  });
});

describe('given bytes that are not a valid record', () => {
  it.each([
    ['garbage', Buffer.from('definitely not avro')],
    ['an empty buffer', Buffer.alloc(0)],
    ['a truncated record', encodeLoose('PayoutFailed', SAMPLE_EVENTS.PayoutFailed).subarray(0, 10)],
    ['trailing bytes', Buffer.concat([encodeLoose('PayoutFailed', SAMPLE_EVENTS.PayoutFailed), Buffer.from([0])])],
  ])('refuses %s as malformed', (_, bytes) => {
    expect(rulesByPath(issuesOf(() => decodeEvent('PayoutFailed', 1, bytes)))).toEqual([['', 'malformed']]);
  });

  it('refuses a well-formed record whose values break a limit (a producer that skipped our encoder)', () => {
    const unchecked = getEventVersion('PayoutRequested', 1).avroType.toBuffer({
      ...SAMPLE_EVENTS.PayoutRequested,
      amountMinor: -5n,
    });
    expect(rulesByPath(issuesOf(() => decodeEvent('PayoutRequested', 1, unchecked)))).toEqual([['amountMinor', 'min']]);
  });
});

describe('given any amount (property)', () => {
  it('round-trips every non-negative int64 fee exactly as a bigint, including beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: INT64_MAX }), (feeMinor) => {
        const decoded = decodeEvent(
          'InferenceCompleted',
          2,
          encodeEvent('InferenceCompleted', { ...inference, feeMinor }),
        );
        expect(decoded.feeMinor).toBe(feeMinor);
      }),
    );
  });

  it('refuses every negative fee, naming feeMinor', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: -1n }), (feeMinor) => {
        expect(rulesByPath(issuesOf(() => encodeEvent('InferenceCompleted', { ...inference, feeMinor })))).toEqual([
          ['feeMinor', 'min'],
        ]);
      }),
    );
  });

  it('accepts a free-text reason exactly up to 4096 characters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8192 }), (length) => {
        const issues = validateEvent('PayoutFailed', { ...SAMPLE_EVENTS.PayoutFailed, reason: 'r'.repeat(length) });
        expect(issues.length === 0).toBe(length <= 4096);
      }),
    );
  });
});
