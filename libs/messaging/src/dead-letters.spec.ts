// Proves what an operator sees of a dead letter and what a re-drive sends, without a broker: a summary
// names the reason, error class, source position, group, failure time, event type and id, and the event
// decoded to JSON (amounts exact, as strings) or a byte note when it does not decode; a re-drive carries
// the original key, value and headers, no dlq_* header, and a header naming the dead letter it came from;
// a marker names the offset it re-drove; the tally counts only dead letters not re-driven.
import { toRecord, type PayoutRequested } from '@tributary/contracts';
import { deadLetterMessage } from './dead-letter';
import {
  DeadLetterTally,
  REDRIVE_HEADERS,
  classifyDlqRecord,
  redriveMarkerMessage,
  redriveMessage,
  summarizeDeadLetter,
  toJsonSafe,
} from './dead-letters';
import type { InboundRecord } from './inbound-batch';

const DLQ = 't.tributary.ledger-projector.dlq';
const FAILED_AT = new Date('2026-12-01T10:00:00.000Z');

const payout: PayoutRequested = {
  eventId: 'requested:p1',
  payoutId: 'p1',
  accountId: 'contributor:c1',
  occurredAt: 1_760_000_000_000n,
  asset: 'USDC',
  amountMinor: 9_007_199_254_740_993n,
  epoch: 3,
};

function sourceRecord(): InboundRecord {
  const record = toRecord('PayoutRequested', payout, {
    source: 'urn:tributary:payouts',
    topicPrefix: 't.',
    time: new Date('2026-12-01T09:00:00.000Z'),
  });
  return {
    topic: record.topic,
    partition: 4,
    offset: '17',
    key: Buffer.from(record.key),
    value: record.value,
    headers: record.headers,
    timestampMs: 1,
  };
}

/** The dead letter as it sits in the DLQ: what deadLetterMessage wrote, read back at a DLQ offset. */
function dlqRecord(
  source: InboundRecord,
  offset: string,
  reason = 'contributor:c1: payout of 9007199254740993 USDC exceeds the balance 0',
): InboundRecord {
  const message = deadLetterMessage(
    't.tributary.ledger-projector',
    { record: source, reason, errorClass: 'PayoutRejectedError' },
    FAILED_AT,
  );
  return {
    topic: DLQ,
    partition: 0,
    offset,
    key: message.key,
    value: message.value,
    headers: message.headers,
    timestampMs: FAILED_AT.getTime(),
  };
}

describe('summarizeDeadLetter', () => {
  it('names the reason, the source position, the group and the event, decoded with exact amounts', () => {
    const summary = summarizeDeadLetter(dlqRecord(sourceRecord(), '5'));
    expect(summary).toEqual({
      dlq: { topic: DLQ, partition: 0, offset: '5' },
      reason: 'contributor:c1: payout of 9007199254740993 USDC exceeds the balance 0',
      errorClass: 'PayoutRejectedError',
      source: { topic: 't.tributary.payouts', partition: 4, offset: '17' },
      consumerGroup: 't.tributary.ledger-projector',
      failedAt: '2026-12-01T10:00:00.000Z',
      key: 'contributor:c1',
      eventType: 'tributary.payouts.PayoutRequested',
      eventId: 'requested:p1',
      valueBytes: sourceRecord().value!.length,
      event: {
        eventId: 'requested:p1',
        payoutId: 'p1',
        accountId: 'contributor:c1',
        occurredAt: '1760000000000',
        asset: 'USDC',
        amountMinor: '9007199254740993',
        epoch: 3,
      },
      decodeProblem: null,
      redriven: null,
    });
  });

  it('says why a value does not decode, with its length and first bytes in hex', () => {
    const source = { ...sourceRecord(), value: Buffer.from('{not avro'), headers: {} };
    const summary = summarizeDeadLetter(
      dlqRecord(
        source,
        '6',
        '(no ce_type): content-type: must be application/avro or application/vnd.tributary.avro+confluent',
      ),
    );
    expect(summary.event).toBeNull();
    expect(summary.eventType).toBeNull();
    expect(summary.eventId).toBeNull();
    expect(summary.valueBytes).toBe(9);
    expect(summary.decodeProblem).toBe(
      'does not decode ((no ce_type): content-type: must be application/avro or application/vnd.tributary.avro+confluent); 9 bytes: 7b6e6f74206176726f',
    );
  });

  it('notes an empty value and a missing key', () => {
    const source = { ...sourceRecord(), key: null, value: null };
    const summary = summarizeDeadLetter(dlqRecord(source, '7'));
    expect(summary.key).toBeNull();
    expect(summary.valueBytes).toBe(0);
    expect(summary.decodeProblem).toMatch(/^does not decode \(.*\); no value$/);
  });

  it('shows a long undecodable value by its first 64 bytes only', () => {
    const source = { ...sourceRecord(), value: Buffer.alloc(1_000, 0xab), headers: {} };
    const note = summarizeDeadLetter(dlqRecord(source, '8')).decodeProblem!;
    expect(note).toContain('1000 bytes, first 64: ');
    expect(note.endsWith(`${'ab'.repeat(64)}…`)).toBe(true);
  });
});

describe('redriveMessage', () => {
  it('sends the original key, value and headers to the source topic and partition, marked with where it came from', () => {
    const source = sourceRecord();
    const message = redriveMessage(dlqRecord(source, '5'));
    expect(message).toEqual({
      topic: 't.tributary.payouts',
      partition: 4,
      key: source.key,
      value: source.value,
      headers: { ...source.headers, [REDRIVE_HEADERS.redrivenFrom]: `${DLQ}/0/5` },
    });
    expect(Object.keys(message.headers).filter((name) => name.startsWith('dlq_'))).toEqual([]);
  });

  it('refuses a record that is not a dead letter', () => {
    const marker = { ...dlqRecord(sourceRecord(), '9'), headers: { [REDRIVE_HEADERS.marker]: '5' } };
    expect(() => redriveMessage(marker)).toThrow(`${DLQ}/0/9 is not a dead letter: it has no dlq_source_topic header`);
  });

  it('refuses a dead letter whose source partition header is not a partition number', () => {
    const record = dlqRecord(sourceRecord(), '5');
    const broken = { ...record, headers: { ...record.headers, dlq_source_partition: 'x' } };
    expect(() => redriveMessage(broken)).toThrow(
      `${DLQ}/0/5: dlq_source_partition must be a partition number, got 'x'`,
    );
  });
});

describe('re-drive markers and the tally', () => {
  const target = { topic: 't.tributary.payouts', partition: 4, offset: '40' };

  it('builds a marker that names the dead letter and where it went, and reads it back', () => {
    const marker = redriveMarkerMessage(dlqRecord(sourceRecord(), '5'), target, new Date('2026-12-02T00:00:00.000Z'));
    expect(marker.key).toBe('redrive:5');
    expect(marker.headers).toEqual({
      [REDRIVE_HEADERS.marker]: '5',
      [REDRIVE_HEADERS.redrivenTo]: 't.tributary.payouts/4/40',
      [REDRIVE_HEADERS.redrivenAt]: '2026-12-02T00:00:00.000Z',
    });
    const read = {
      topic: DLQ,
      partition: 0,
      offset: '9',
      key: Buffer.from(marker.key),
      value: Buffer.from(marker.value),
      headers: marker.headers,
      timestampMs: 0,
    };
    expect(classifyDlqRecord(read)).toEqual({
      kind: 'redrive-marker',
      deadLetterOffset: '5',
      redrivenTo: 't.tributary.payouts/4/40',
      redrivenAt: '2026-12-02T00:00:00.000Z',
      markerOffset: '9',
    });
    expect(JSON.parse(marker.value)).toEqual({ redriven: `${DLQ}/0/5`, to: target, at: '2026-12-02T00:00:00.000Z' });
  });

  it('classifies dead letters, markers and anything else', () => {
    expect(classifyDlqRecord(dlqRecord(sourceRecord(), '5')).kind).toBe('dead-letter');
    expect(classifyDlqRecord({ ...dlqRecord(sourceRecord(), '5'), headers: {} }).kind).toBe('other');
  });

  it('counts as depth only the dead letters no marker re-drove, each marker once', () => {
    const tally = new DeadLetterTally();
    for (const offset of ['0', '1', '2']) tally.add(dlqRecord(sourceRecord(), offset));
    const marker = (offset: string, of: string) => {
      const message = redriveMarkerMessage(dlqRecord(sourceRecord(), of), target, FAILED_AT);
      return {
        topic: DLQ,
        partition: 0,
        offset,
        key: Buffer.from(message.key),
        value: Buffer.from(message.value),
        headers: message.headers,
        timestampMs: 0,
      };
    };
    tally.add(marker('3', '1'));
    tally.add(marker('4', '1')); // a repeated marker changes nothing
    tally.add({ ...dlqRecord(sourceRecord(), '5'), headers: {} });
    expect(tally.depth).toBe(2);
    expect(tally.deadLetters).toBe(3);
    expect(tally.redriven).toBe(1);
    expect(tally.redriveOf('1')).toEqual({
      deadLetterOffset: '1',
      redrivenTo: 't.tributary.payouts/4/40',
      redrivenAt: FAILED_AT.toISOString(),
      markerOffset: '3',
    });
    expect(tally.redriveOf('0')).toBeUndefined();
    expect(tally.nextOffset).toBe('6');
  });
});

describe('toJsonSafe', () => {
  it('turns bigints into decimal strings and bytes into hex, keeping everything else', () => {
    expect(toJsonSafe({ a: 1n, b: [Buffer.from([1, 255])], c: { d: null, e: 'x', f: true, g: 2 } })).toEqual({
      a: '1',
      b: ['01ff'],
      c: { d: null, e: 'x', f: true, g: 2 },
    });
  });
});
