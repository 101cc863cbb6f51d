// Proves that every kind of bad input is refused with a typed AttributionInputError naming the field and the rule, by breaking one field of a valid input at a time (examples) and by breaking any generated valid input (properties).
import fc from 'fast-check';
import {
  ATTRIBUTIONS_MAX,
  AttributionAssertionError,
  AttributionInputError,
  FEE_MINOR_MAX,
  decideAttribution,
  type AttributionInput,
} from '@tributary/attribution';
import { accepted, anInput, inputArbitrary } from './fixtures';

/** Runs the policy and returns the input error it threw, failing the test if it threw anything else. */
function inputErrorOf(input: AttributionInput): AttributionInputError {
  try {
    decideAttribution(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionInputError);
    expect(error).not.toBeInstanceOf(AttributionAssertionError);
    return error as AttributionInputError;
  }
  throw new Error('expected an AttributionInputError, but the input was accepted');
}

const valid = anInput();
const withInference = (change: Partial<AttributionInput['inference']>): AttributionInput =>
  anInput({ inference: { ...valid.inference, ...change } });
const withModel = (change: Partial<AttributionInput['model']>): AttributionInput =>
  anInput({ model: { ...valid.model, ...change } });
const withSplit = (protocolBps: number, modelBps: number, dataBps: number): AttributionInput =>
  withModel({ split: { protocolBps, modelBps, dataBps } });
const withScore = (scorePpm: number): AttributionInput =>
  withInference({ attributions: [{ contributionId: 'c-1', scorePpm }] });
const manyAttributions = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ contributionId: `c-${index}`, scorePpm: 1 }));
// Casts stand for what a JavaScript caller or a faulty mapper could pass despite the static types.
const loose = <T>(value: unknown): T => value as T;

describe('an otherwise valid input with one bad field', () => {
  it.each<[string, AttributionInput, string, string]>([
    ['a negative fee', withInference({ feeMinor: -1n }), 'inference.feeMinor', 'MIN'],
    ['a fee above 2^63 - 1', withInference({ feeMinor: FEE_MINOR_MAX + 1n }), 'inference.feeMinor', 'MAX'],
    ['a fee as a number', withInference({ feeMinor: loose<bigint>(1000) }), 'inference.feeMinor', 'BIGINT'],
    ['an empty inference id', withInference({ inferenceId: '' }), 'inference.inferenceId', 'NON_EMPTY'],
    [
      'a 257-character consumer id',
      withInference({ consumerId: 'x'.repeat(257) }),
      'inference.consumerId',
      'LENGTH_MAX',
    ],
    ['a 33-character asset', withInference({ asset: 'A'.repeat(33) }), 'inference.asset', 'LENGTH_MAX'],
    ['a method that is not text', withInference({ method: loose<string>(7) }), 'inference.method', 'STRING'],
    [
      'attributions that are not a list',
      withInference({ attributions: loose<[]>('c-1') }),
      'inference.attributions',
      'ARRAY',
    ],
    [
      '10,001 attributions',
      withInference({ attributions: manyAttributions(ATTRIBUTIONS_MAX + 1) }),
      'inference.attributions',
      'COUNT_MAX',
    ],
    ['a negative score', withScore(-1), 'inference.attributions[0].scorePpm', 'MIN'],
    ['a fractional score', withScore(0.5), 'inference.attributions[0].scorePpm', 'INTEGER'],
    ['a NaN score', withScore(Number.NaN), 'inference.attributions[0].scorePpm', 'INTEGER'],
    ['a score above one million ppm', withScore(1_000_001), 'inference.attributions[0].scorePpm', 'MAX'],
    ["a model other than the inference's", withModel({ modelId: 'm-2' }), 'model.modelId', 'MATCHES_INFERENCE'],
    ['a split summing to 9999', withSplit(1000, 7000, 1999), 'model.split', 'SUM_10000'],
    ['a split summing to 10001', withSplit(1000, 7000, 2001), 'model.split', 'SUM_10000'],
    ['a negative split part', withSplit(-1, 8001, 2000), 'model.split.protocolBps', 'MIN'],
    ['a fractional split part', withSplit(1000, 6999.5, 2000.5), 'model.split.modelBps', 'INTEGER'],
    ['a split part over 10000', withSplit(0, 0, 10_001), 'model.split.dataBps', 'MAX'],
    ['a model datanet listed twice', withModel({ datanetIds: ['dn-1', 'dn-1'] }), 'model.datanetIds', 'UNIQUE'],
    [
      'a model on 101 datanets',
      withModel({ datanetIds: manyAttributions(101).map((item) => item.contributionId) }),
      'model.datanetIds',
      'COUNT_MAX',
    ],
    ['a model datanet with no state', withModel({ datanetIds: ['dn-1', 'dn-ghost'] }), 'model.datanetIds[1]', 'KNOWN'],
    [
      'a curator share over 10000',
      anInput({ datanets: [{ datanetId: 'dn-1', owner: 'carol', curatorShareBps: 10_001 }] }),
      'datanets[0].curatorShareBps',
      'MAX',
    ],
    [
      'a negative curator share',
      anInput({ datanets: [{ datanetId: 'dn-1', owner: 'carol', curatorShareBps: -1 }] }),
      'datanets[0].curatorShareBps',
      'MIN',
    ],
    [
      'an empty datanet owner',
      anInput({ datanets: [{ datanetId: 'dn-1', owner: '', curatorShareBps: 0 }] }),
      'datanets[0].owner',
      'NON_EMPTY',
    ],
    [
      'a datanet state given twice',
      anInput({ datanets: [...valid.datanets, ...valid.datanets] }),
      'datanets',
      'UNIQUE',
    ],
    [
      'a contribution state given twice',
      anInput({ contributions: [...valid.contributions, ...valid.contributions] }),
      'contributions',
      'UNIQUE',
    ],
    [
      'an unknown contribution status',
      anInput({ contributions: [{ ...accepted('c-1', 'dn-1', 'dave'), status: loose('PENDING') }] }),
      'contributions[0].status',
      'ONE_OF',
    ],
    [
      'a revoked flag that is not boolean',
      anInput({ contributions: [{ ...accepted('c-1', 'dn-1', 'dave'), revoked: loose('no') }] }),
      'contributions[0].revoked',
      'BOOLEAN',
    ],
    ['an empty protocol id', anInput({ protocolId: '' }), 'protocolId', 'NON_EMPTY'],
  ])('given %s, when decided, then it is refused naming %s and rule %s', (_, input, field, rule) => {
    const error = inputErrorOf(input);
    expect({ field: error.field, rule: error.rule }).toEqual({ field, rule });
    expect(error.message).toContain(field);
  });

  it('given exactly 10,000 attributions, when decided, then the input is accepted (the limit is inclusive)', () => {
    expect(() => decideAttribution(withInference({ attributions: manyAttributions(ATTRIBUTIONS_MAX) }))).not.toThrow();
  });
});

describe('any valid input that turns invalid', () => {
  it('given its fee made negative, when decided, then it is refused on inference.feeMinor with rule MIN', () => {
    fc.assert(
      fc.property(inputArbitrary, fc.bigInt({ min: 1n, max: FEE_MINOR_MAX }), (input, debtMinor) => {
        const error = inputErrorOf({ ...input, inference: { ...input.inference, feeMinor: -debtMinor } });
        expect([error.field, error.rule]).toEqual(['inference.feeMinor', 'MIN']);
      }),
      { numRuns: 100 },
    );
  });

  it('given one split part moved off by a basis point, when decided, then it is refused on the split', () => {
    fc.assert(
      fc.property(inputArbitrary, fc.constantFrom(-1, 1), (input, offsetBps) => {
        const split = { ...input.model.split, dataBps: input.model.split.dataBps + offsetBps };
        const error = inputErrorOf({ ...input, model: { ...input.model, split } });
        expect(error.field.startsWith('model.split')).toBe(true);
        expect(['SUM_10000', 'MIN', 'MAX']).toContain(error.rule);
      }),
      { numRuns: 100 },
    );
  });
});
