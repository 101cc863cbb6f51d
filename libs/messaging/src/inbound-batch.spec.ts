// Proves toInboundRecord gives each header's last value as UTF-8 text, whatever the values before it
// were: reusing a remembered value (ascii-text.ts) never returns another header's or an earlier text.
import fc from 'fast-check';
import type { KafkaMessage } from 'kafkajs';
import { toInboundRecord } from './inbound-batch';

const message = (headers: KafkaMessage['headers']): KafkaMessage =>
  ({ key: null, value: null, timestamp: '1', attributes: 0, offset: '0', headers }) as KafkaMessage;

describe('toInboundRecord', () => {
  it("reads every header's last value as its UTF-8 text, record after record", () => {
    const name = fc.constantFrom('ce_type', 'ce_id', 'content-type', 'x');
    const bytes = fc.oneof(
      fc
        .constantFrom('application/avro', 'tributary.x', 'é', '', 'tributary.y')
        .map((text) => Buffer.from(text, 'utf8')),
      fc.uint8Array({ maxLength: 12 }).map((array) => Buffer.from(array)),
      fc.string({ maxLength: 300 }).map((text) => Buffer.from(text, 'utf8')),
    );
    const value = fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(fc.dictionary(name, value), { maxLength: 8 }), (records) => {
        for (const headers of records) {
          const expected = Object.fromEntries(
            Object.entries(headers).map(([key, entry]) => [
              key,
              (Array.isArray(entry) ? entry[entry.length - 1]! : entry).toString('utf8'),
            ]),
          );
          expect(toInboundRecord('t', 0, message(headers)).headers).toEqual(expected);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('decodes a lone non-UTF-8 byte as U+FFFD even after a value whose char code it equals', () => {
    expect(toInboundRecord('t', 0, message({ h: Buffer.from('é', 'utf8') })).headers).toEqual({ h: 'é' });
    expect(toInboundRecord('t', 0, message({ h: Buffer.from([0xe9]) })).headers).toEqual({ h: '\ufffd' });
    expect(toInboundRecord('t', 0, message({ h: Buffer.from('a') })).headers).toEqual({ h: 'a' });
    expect(toInboundRecord('t', 0, message({ h: Buffer.from('b') })).headers).toEqual({ h: 'b' });
    expect(toInboundRecord('t', 0, message({ h: 'given as text' })).headers).toEqual({ h: 'given as text' });
  });
});
