// Proves the batch transport's DLQ sink never sends the broker a record batch larger than the DLQ topic
// takes: dead letters that together would be too large go in several sends, in order; small ones in one.
import { DEAD_LETTER_RECORD_BYTES_MAX, recordBatchBytes } from '@tributary/contracts';
import { deadLetterSink } from './dead-letter';
import type { Rejection } from './inbound-batch';

const rejection = (offset: number, valueBytes: number): Rejection => ({
  record: {
    topic: 'tributary.attributions',
    partition: 2,
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: Buffer.alloc(valueBytes),
    headers: { ce_id: `e${offset}` },
    timestampMs: 0,
  },
  reason: 'ledger: rule broken',
  errorClass: 'LedgerRuleError',
});

describe('the DLQ sink', () => {
  async function sends(rejections: readonly Rejection[]) {
    const sent: Array<{
      topic: string;
      messages: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, string> }>;
    }> = [];
    const producer = { send: jest.fn(async (request: (typeof sent)[number]) => void sent.push(request)) };
    await deadLetterSink(producer as never, () => new Date(0))('tributary.ledger-projector', rejections);
    return sent;
  }

  it('splits dead letters that would pass the DLQ limit together, keeping their order', async () => {
    const sent = await sends([rejection(1, 700_000), rejection(2, 700_000), rejection(3, 10), rejection(4, 900_000)]);
    expect(sent.map((send) => send.messages.map((message) => message.key!.toString()))).toEqual([
      ['k1'],
      ['k2', 'k3'],
      ['k4'],
    ]);
    for (const send of sent) {
      expect(send.topic).toBe('tributary.ledger-projector.dlq');
      expect(recordBatchBytes(send.messages)).toBeLessThanOrEqual(DEAD_LETTER_RECORD_BYTES_MAX);
    }
  });

  it('sends small dead letters in one send', async () => {
    const sent = await sends(Array.from({ length: 50 }, (_, index) => rejection(index, 100)));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.messages).toHaveLength(50);
  });
});
