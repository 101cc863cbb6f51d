// Proves that a decision recorded under the old join rule (as-of-record-time/v1, a fixture written as the
// service published it before issue 25) is still explained and recomputed exactly, naming its own rule,
// and that a decision made today records and explains as-of-append-time/v2.
import { decideAttribution, JOIN_RULES } from '@tributary/attribution';
import { toRecord, type InferenceAttributed } from '@tributary/contracts';
import { explainStored } from '../src/explain/explain';
import { inputFromEvent, recompute, sameCredits, toAttributedEvent } from '../src/decision/wire';

/** A decision as the service made it under v1: its orderingRule is that rule's text, byte for byte. */
const V1_DECISION: InferenceAttributed = {
  eventId: 'attributed:inf-v1',
  inferenceId: 'inf-v1',
  occurredAt: 1_790_000_000_000n,
  inferenceEventId: 'evt-inf-v1',
  producer: 'urn:tributary:producer:acme',
  policyVersion: 2,
  modelId: 'model-1',
  consumerId: 'carol',
  asset: 'USDC',
  feeMinor: 10_000n,
  split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
  postings: [
    { accountId: 'contributor:dora', asset: 'USDC', amountMinor: 4_800n },
    { accountId: 'datanet-owner:olga', asset: 'USDC', amountMinor: 1_200n },
    { accountId: 'model-owner:mona', asset: 'USDC', amountMinor: 3_000n },
    { accountId: 'protocol:tributary', asset: 'USDC', amountMinor: 1_000n },
  ],
  rejected: [{ contributionId: 'pending-1', reason: 'NOT_ACCEPTED' }],
  contributionsSeen: [
    {
      contributionId: 'known-1',
      status: 'ACCEPTED',
      datanetId: 'datanet-1',
      contributorId: 'dora',
      scorePpm: 600_000n,
    },
    {
      contributionId: 'pending-1',
      status: 'PENDING',
      datanetId: 'datanet-1',
      contributorId: 'paul',
      scorePpm: 400_000n,
    },
  ],
  datanetsSeen: [
    { datanetId: 'datanet-1', ownerId: 'olga', curatorShareBps: 2_000, minDataBps: 0, allowedModelOwners: null },
  ],
  orderingRule:
    'rounding: largest-remainder, ties by accountId ascending; join: as-of-record-time/v1 (table state as of the inference record timestamp, after every table partition passed it)',
};

const stored = (event: InferenceAttributed) => {
  const record = toRecord('InferenceAttributed', event, { source: 'urn:tributary:attribution' });
  return {
    inferenceId: event.inferenceId,
    method: 'influence/v1',
    value: record.value,
    headers: record.headers,
    inferencePartition: 3,
    inferenceOffset: 41n,
  };
};

describe('a decision recorded under as-of-record-time/v1', () => {
  it('then it recomputes to the same credits and rejections', () => {
    const again = recompute(V1_DECISION, 'influence/v1');
    expect(sameCredits(V1_DECISION, again)).toBe(true);
    expect(again.rejected).toEqual([{ contributionId: 'pending-1', reason: 'NOT_ACCEPTED' }]);
  });

  it('then explain names the v1 rule it was decided under and confirms the recomputed credits', () => {
    const lines = explainStored(stored(V1_DECISION));
    expect(lines).toContain(`Ordering: ${V1_DECISION.orderingRule}.`);
    expect(lines).toContain(JOIN_RULES['as-of-record-time/v1'].explanation);
    expect(lines).not.toContain(JOIN_RULES['as-of-append-time/v2'].explanation);
    expect(lines).toContain(
      'Contributor contributor:dora receives 4800 USDC for contributions known-1 (score 600000 ppm).',
    );
    expect(lines.at(-1)).toBe('Recomputed from the recorded inputs: the credits match the published decision.');
  });
});

describe('a decision made today', () => {
  it('then it records as-of-append-time/v2 and explain names that rule', () => {
    const decision = decideAttribution(inputFromEvent(V1_DECISION, 'influence/v1'));
    const event = toAttributedEvent(decision, 'evt-inf-v1', 1_790_000_000_000n, 'urn:tributary:producer:acme');
    expect(event.orderingRule).toBe(JOIN_RULES['as-of-append-time/v2'].text);
    expect(event.postings).toEqual(V1_DECISION.postings);
    const lines = explainStored(stored(event));
    expect(lines).toContain(JOIN_RULES['as-of-append-time/v2'].explanation);
    expect(lines.at(-1)).toBe('Recomputed from the recorded inputs: the credits match the published decision.');
  });

  it('given an orderingRule naming no known join rule, then explain says so instead of guessing', () => {
    const lines = explainStored(
      stored({ ...V1_DECISION, orderingRule: 'largest-remainder; ties by accountId ascending' }),
    );
    expect(lines).toContain('The recorded orderingRule names no join rule this service knows.');
  });
});
