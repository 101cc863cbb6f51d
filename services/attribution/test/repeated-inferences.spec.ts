// Proves the decider's rule for an inferenceId seen again, without a broker: the first record of an id
// is decided; a repeat with the same content hash is a re-delivery (skipped, counted); a repeat with other
// content is a conflict whose reason names the id, where it was decided and both hashes; a decision stored
// before hashes were kept (no hash) takes any repeat as a re-delivery; within a batch the first record wins.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { RepeatedInferences, inferenceIdConflictReason } from '../src/decision/repeated-inferences';
import { rejectedField } from '../src/metrics/attribution-metrics';

const hash = (text: string) => createHash('sha256').update(text).digest();
const TOPIC = 'tributary.inferences';

describe('an inferenceId seen again', () => {
  it('is new the first time, and its position and hash are remembered for the rest of the batch', () => {
    const repeats = new RepeatedInferences(TOPIC, new Map());
    expect(repeats.check('i-1', hash('a'))).toEqual({ type: 'new' });
    repeats.decided('i-1', 3, 10n, hash('a'));
    expect(repeats.check('i-1', hash('a'))).toEqual({ type: 'duplicate' });
    expect(repeats.check('i-1', hash('b'))).toEqual({
      type: 'conflict',
      reason: inferenceIdConflictReason('i-1', `${TOPIC}[3]@10`, hash('a'), hash('b')),
    });
  });

  it('checks against decisions stored before, and takes a stored decision without a hash as re-delivered by any repeat', () => {
    const repeats = new RepeatedInferences(
      TOPIC,
      new Map([
        ['hashed', { partition: 1, offset: 7n, contentHash: hash('a') }],
        ['legacy', { partition: 1, offset: 8n, contentHash: null }],
      ]),
    );
    expect(repeats.check('hashed', hash('a'))).toEqual({ type: 'duplicate' });
    expect(repeats.check('hashed', hash('b')).type).toBe('conflict');
    expect(repeats.check('legacy', hash('b'))).toEqual({ type: 'duplicate' });
    expect(repeats.check('other', hash('b'))).toEqual({ type: 'new' });
  });

  it('names the id, the position and both hashes, in a reason whose metric label is inferenceId', () => {
    const reason = inferenceIdConflictReason('i-9', `${TOPIC}[2]@41`, hash('a'), hash('b'));
    expect(reason).toBe(
      `inferenceId: i-9 was already decided from ${TOPIC}[2]@41 with content sha256:${hash('a').toString('hex')}; ` +
        `this record's content is sha256:${hash('b').toString('hex')}, and one id cannot name two inferences`,
    );
    expect(rejectedField(reason)).toBe('inferenceId');
  });

  it('decides each id once whatever the order of records: the first wins, copies are duplicates, the rest conflicts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.constantFrom('a', 'b')), { maxLength: 30 }),
        (records) => {
          const repeats = new RepeatedInferences(TOPIC, new Map());
          const first = new Map<string, string>();
          records.forEach(([id, content], offset) => {
            const outcome = repeats.check(id, hash(content));
            const expected = !first.has(id) ? 'new' : first.get(id) === content ? 'duplicate' : 'conflict';
            expect(outcome.type).toBe(expected);
            if (outcome.type === 'new') {
              first.set(id, content);
              repeats.decided(id, 0, BigInt(offset), hash(content));
            }
          });
        },
      ),
    );
  });
});
