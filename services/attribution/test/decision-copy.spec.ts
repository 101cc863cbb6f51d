// Reads back the COPY BINARY stream the decision store writes, field by field, as PostgreSQL would:
// the signature, one tuple of eight columns per row in the table's column order, the headers as JSON
// text, multi-byte text measured in bytes, the inference's content hash as bytes, and the trailer.
import { encodeDecisionRows } from '../src/decision/decision-copy';
import type { DecisionRow } from '../src/decision/decision-store';

function readBack(buffer: Buffer) {
  let position = 19;
  const field = () => {
    const length = buffer.readInt32BE(position);
    const bytes = buffer.subarray(position + 4, position + 4 + length);
    position += 4 + length;
    return bytes;
  };
  const rows: unknown[] = [];
  expect(buffer.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  for (;;) {
    const count = buffer.readInt16BE(position);
    position += 2;
    if (count === -1) break;
    expect(count).toBe(8);
    const [inferenceId, partition, offset, eventId, method, value, headers, contentHash] = Array.from(
      { length: count },
      field,
    );
    rows.push({
      inferenceId: inferenceId!.toString('utf8'),
      partition: partition!.readInt32BE(0),
      offset: offset!.readBigInt64BE(0),
      eventId: eventId!.toString('utf8'),
      method: method!.toString('utf8'),
      value: Buffer.from(value!),
      headers: JSON.parse(headers!.toString('utf8')),
      contentHash: Buffer.from(contentHash!),
    });
  }
  expect(position).toBe(buffer.length);
  return rows;
}

describe('given decision rows', () => {
  it('encodes each as one COPY tuple that reads back to the same values', () => {
    const rows: DecisionRow[] = [
      {
        inferenceId: 'inference-1',
        inferenceOffset: 0n,
        eventId: 'attributed:inference-1',
        method: 'influence/v1',
        value: Buffer.from([1, 2, 3]),
        headers: { ce_id: 'a' },
        contentHash: Buffer.alloc(32, 7),
      },
      {
        inferenceId: 'inférence-ü-2',
        inferenceOffset: 2n ** 40n,
        eventId: 'attributed:inférence-ü-2',
        method: 'm',
        value: Buffer.alloc(0),
        headers: { ce_subject: 'inférence-ü-2', 'content-type': 'application/avro' },
        contentHash: Buffer.alloc(32, 0xfe),
      },
    ];
    expect(readBack(encodeDecisionRows(5, rows))).toEqual(
      rows.map((row) => ({
        inferenceId: row.inferenceId,
        partition: 5,
        offset: row.inferenceOffset,
        eventId: row.eventId,
        method: row.method,
        value: row.value,
        headers: row.headers,
        contentHash: row.contentHash,
      })),
    );
  });

  it('encodes no rows as the header and the trailer alone', () => {
    expect(readBack(encodeDecisionRows(0, []))).toEqual([]);
  });
});
