// How funding events are read off the wire: deposits and reversals decode to movements of their
// producer's funding, they are accepted on the funding topic only and the funding topic takes nothing
// else, and a decision that names no producer (written before v3) counts under the empty producer.
import {
  getEventContract,
  SchemaIdBook,
  schemaCatalogEntries,
  toRecord,
  type FundsDeposited,
  type FundsReversed,
  type InferenceAttributed,
} from '@tributary/contracts';
import type { InboundRecord } from '@tributary/messaging';
import { decision } from '../../test/fixtures';
import { foldLedgerBatch, initialLedgerState, producerOf, UNKNOWN_PRODUCER } from '@tributary/ledger';
import { readLedgerRecord, RecordRejected, type LedgerRecord } from './ledger-record';

const PREFIX = 'unit.';
const deposit = (eventId: string, producer: string, amountMinor: bigint, asset = 'USDC'): FundsDeposited => ({
  eventId,
  producer,
  occurredAt: 1_760_000_000_000n,
  asset,
  amountMinor,
  railReference: `wire-${eventId}`,
});
const reversal = (eventId: string, producer: string, amountMinor: bigint): FundsReversed => ({
  eventId,
  producer,
  occurredAt: 1_760_000_000_000n,
  asset: 'USDC',
  amountMinor,
  railReference: `cb-${eventId}`,
  reason: 'chargeback',
  reversesEventId: null,
});

function record(
  eventType: Parameters<typeof toRecord>[0],
  data: unknown,
  offset = 0,
  topic?: string,
  schemaIds: SchemaIdBook | null = null,
): InboundRecord {
  const published = toRecord(eventType, data as never, {
    source: 'urn:tributary:test',
    topicPrefix: PREFIX,
    schemaIds,
  });
  return {
    topic: topic ?? published.topic,
    partition: 0,
    offset: String(offset),
    key: Buffer.from(published.key),
    value: published.value,
    headers: published.headers,
    timestampMs: 0,
  };
}

const rejection = (read: () => unknown): RecordRejected => {
  try {
    read();
  } catch (error) {
    if (error instanceof RecordRejected) return error;
    throw error;
  }
  throw new Error('the record was accepted');
};

describe('readLedgerRecord, funding events', () => {
  it('reads a deposit and a reversal as movements of their producer, asset and amount', () => {
    const read = readLedgerRecord(record('FundsDeposited', deposit('d1', 'urn:p:a', 500n)));
    expect(read).toMatchObject({
      eventId: 'd1',
      event: { type: 'funding', funding: { type: 'deposit', producer: 'urn:p:a', asset: 'USDC', amountMinor: 500n } },
    });
    expect(read.contentHash).toHaveLength(32);
    expect(
      readLedgerRecord(record('FundsReversed', reversal('r1', 'urn:p:a', 9_223_372_036_854_775_807n))),
    ).toMatchObject({
      eventId: 'r1',
      event: {
        type: 'funding',
        funding: { type: 'chargeback', producer: 'urn:p:a', amountMinor: 9_223_372_036_854_775_807n },
      },
    });
  });

  it('refuses a funding event off another topic, and anything else on the funding topic', () => {
    const attributions = `${PREFIX}tributary.attributions`;
    const funding = `${PREFIX}tributary.funding`;
    expect(
      rejection(() => readLedgerRecord(record('FundsDeposited', deposit('d1', 'urn:p:a', 5n), 0, attributions))),
    ).toMatchObject({ rule: 'wrong-topic' });
    expect(rejection(() => readLedgerRecord(record('InferenceAttributed', decision(1), 0, funding)))).toMatchObject({
      rule: 'wrong-topic',
    });
    expect(
      rejection(() =>
        readLedgerRecord(
          record(
            'PayoutSettled',
            { eventId: 's', payoutId: 'p', accountId: 'contributor:c', occurredAt: 0n, rail: 'ach', reference: 'r' },
            0,
            funding,
          ),
        ),
      ),
    ).toMatchObject({ rule: 'wrong-topic' });
  });

  it('refuses a funding record that is not Avro, or whose amount or producer is out of bounds, naming the contract', () => {
    const good = record('FundsDeposited', deposit('d1', 'urn:p:a', 5n));
    expect(rejection(() => readLedgerRecord({ ...good, value: Buffer.from('{not avro') }))).toMatchObject({
      rule: 'contract',
    });
    // Written past the writer's checks, straight with the Avro type: the reader's limits refuse them.
    const { avroType } = getEventContract('FundsDeposited').latest;
    for (const bad of [deposit('d2', 'urn:p:a', 0n), deposit('d3', 'urn:p:a', -5n), deposit('d4', '', 5n)]) {
      const refused = rejection(() => readLedgerRecord({ ...good, value: avroType.toBuffer(bad) }));
      expect(refused.rule).toBe('contract');
      expect(refused.message).toMatch(bad.producer === '' ? /producer/ : /amountMinor/);
    }
  });
});

describe('producerOf', () => {
  it('is the decision producer, or the empty producer for a decision written before v3', () => {
    expect(producerOf(decision(1))).toBe('urn:tributary:producer:fixtures');
    expect(producerOf({ ...decision(1), producer: null })).toBe(UNKNOWN_PRODUCER);
    expect(UNKNOWN_PRODUCER).toBe('');
  });
});

describe('the producer totals the ledger fold sums', () => {
  const sumProducerTotals = (applied: ReadonlyArray<{ readonly item: LedgerRecord }>) => {
    const effects = foldLedgerBatch(
      applied.map(({ item }) => item),
      initialLedgerState(`${PREFIX}any`, 0),
    );
    return { funding: effects.producerFundingDeltas, credits: effects.producerCreditDeltas };
  };
  const attributed = (sequence: number, producer: string | null): InferenceAttributed => ({
    ...decision(sequence),
    producer,
  });

  it('sums fees and credits by producer, deposits and chargebacks by producer, credits by account: one row per key, in key order', () => {
    const items = [
      readLedgerRecord(record('InferenceAttributed', attributed(1, 'urn:p:b'), 0)),
      readLedgerRecord(record('InferenceAttributed', attributed(2, 'urn:p:a'), 1)),
      readLedgerRecord(record('InferenceAttributed', attributed(3, 'urn:p:b'), 2)),
      readLedgerRecord(record('InferenceAttributed', attributed(4, null), 3)),
    ].map((item) => ({ item }));
    const fundingItems = [
      deposit('d1', 'urn:p:a', 100n),
      deposit('d2', 'urn:p:a', 50n),
      deposit('d3', 'urn:p:c', 7n, 'EURC'),
    ].map((data, offset) => ({ item: readLedgerRecord(record('FundsDeposited', data, offset)) }));
    const chargeback = { item: readLedgerRecord(record('FundsReversed', reversal('r1', 'urn:p:a', 30n), 9)) };
    const totals = sumProducerTotals([...items, ...fundingItems, chargeback]);

    const fee = (sequence: number) => decision(sequence).feeMinor;
    expect(totals.funding).toEqual([
      {
        producer: '',
        asset: 'USDC',
        feesMinor: fee(4),
        creditedMinor: fee(4),
        depositsMinor: 0n,
        chargebacksMinor: 0n,
      },
      {
        producer: 'urn:p:a',
        asset: 'USDC',
        feesMinor: fee(2),
        creditedMinor: fee(2),
        depositsMinor: 150n,
        chargebacksMinor: 30n,
      },
      {
        producer: 'urn:p:b',
        asset: 'USDC',
        feesMinor: fee(1) + fee(3),
        creditedMinor: fee(1) + fee(3),
        depositsMinor: 0n,
        chargebacksMinor: 0n,
      },
      { producer: 'urn:p:c', asset: 'EURC', feesMinor: 0n, creditedMinor: 0n, depositsMinor: 7n, chargebacksMinor: 0n },
    ]);
    // Per account: every posting of each producer's decisions, summed; the consumer's debit is no credit.
    const expected = new Map<string, bigint>();
    for (const [sequence, producer] of [
      [1, 'urn:p:b'],
      [2, 'urn:p:a'],
      [3, 'urn:p:b'],
      [4, ''],
    ] as const) {
      for (const posting of decision(sequence).postings)
        expected.set(
          `${posting.accountId}|${producer}`,
          (expected.get(`${posting.accountId}|${producer}`) ?? 0n) + posting.amountMinor,
        );
    }
    expect(new Map(totals.credits.map((row) => [`${row.account}|${row.producer}`, row.creditedMinor]))).toEqual(
      expected,
    );
    expect(totals.credits).toHaveLength(expected.size);
    expect(totals.credits.every((row) => row.asset === 'USDC' && !row.account.startsWith('consumer:'))).toBe(true);
    const keys = totals.credits.map((row) => [row.account, row.producer, row.asset]);
    expect(keys).toEqual([...keys].sort((left, right) => (left.join('\0') < right.join('\0') ? -1 : 1)));
  });

  it('gives the same totals whatever the order of the records', () => {
    const items = [1, 2, 3, 4, 5].map((sequence) => ({
      item: readLedgerRecord(
        record('InferenceAttributed', attributed(sequence, sequence % 2 ? 'urn:p:a' : 'urn:p:b'), sequence),
      ),
    }));
    const funding = { item: readLedgerRecord(record('FundsDeposited', deposit('d1', 'urn:p:b', 11n), 0)) };
    expect(sumProducerTotals([funding, ...items].reverse())).toEqual(sumProducerTotals([...items, funding]));
  });
});

describe('readLedgerRecord, either framing', () => {
  const ids = SchemaIdBook.of(new Map(schemaCatalogEntries().map((entry, index) => [entry.fingerprint, 1 + index])));

  it('reads a Confluent-framed record as the raw one, with the same content hash', () => {
    for (const [eventType, data] of [
      ['InferenceAttributed', decision(7)],
      ['FundsDeposited', deposit('dep-1', 'urn:p', 2n ** 60n)],
    ] as const) {
      const raw = readLedgerRecord(record(eventType, data));
      const framed = readLedgerRecord(record(eventType, data, 0, undefined, ids));
      expect(framed.record.headers['content-type']).toBe('application/vnd.tributary.avro+confluent');
      expect(framed.event).toEqual(raw.event);
      expect(framed.contentHash.equals(raw.contentHash)).toBe(true);
    }
  });

  it('refuses a framed record whose prefix is broken, naming the value', () => {
    const framed = record('InferenceAttributed', decision(8), 0, undefined, ids);
    const broken = Buffer.from(framed.value!);
    broken[0] = 1;
    expect(rejection(() => readLedgerRecord({ ...framed, value: broken })).message).toMatch(
      /: value: starts with byte 1/,
    );
  });
});
