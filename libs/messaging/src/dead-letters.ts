import { CE_HEADERS, fromRecord } from '@tributary/contracts';
import { DLQ_HEADERS } from './dead-letter';
import type { InboundRecord } from './inbound-batch';

/**
 * What an operator needs of a DLQ, without a broker: a dead letter read back as a summary (why it
 * failed, where it came from, the event decoded), the record that re-drives it to its source, and the
 * marker appended to the DLQ once it was re-driven, so a second re-drive of the same dead letter is
 * refused and the DLQ's depth counts only what still waits for a fix.
 */
export const REDRIVE_HEADERS = {
  /** On a re-driven record: the dead letter it came from, `<dlq topic>/<partition>/<offset>`. */
  redrivenFrom: 'tributary_redriven_from',
  /** On a marker in the DLQ: the DLQ offset of the dead letter that was re-driven. */
  marker: 'tributary_dlq_redrive_of',
  /** On a marker: where the re-driven record landed, `<topic>/<partition>/<offset>`. */
  redrivenTo: 'tributary_dlq_redriven_to',
  /** On a marker: when, ISO 8601. */
  redrivenAt: 'tributary_dlq_redriven_at',
} as const;

const DLQ_HEADER_PREFIX = 'dlq_';
const HEX_PREVIEW_BYTES = 64;
const PARTITION_MAX = 2 ** 31 - 1;

/** A topic, partition and offset; offsets are int64, kept as decimal strings. */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A dead letter that was re-driven: by which marker, to where, when. */
export interface RedriveMark {
  readonly deadLetterOffset: string;
  readonly redrivenTo: string;
  readonly redrivenAt: string;
  readonly markerOffset: string;
}

export type DlqRecordKind =
  | { readonly kind: 'dead-letter'; readonly record: InboundRecord }
  | ({ readonly kind: 'redrive-marker' } & RedriveMark)
  | { readonly kind: 'other' };

/** What a record in a DLQ topic is: a dead letter, a re-drive marker, or neither (left alone). */
export function classifyDlqRecord(record: InboundRecord): DlqRecordKind {
  const markerOf = record.headers[REDRIVE_HEADERS.marker];
  if (markerOf !== undefined && /^\d+$/.test(markerOf)) {
    return {
      kind: 'redrive-marker',
      deadLetterOffset: markerOf,
      redrivenTo: record.headers[REDRIVE_HEADERS.redrivenTo] ?? '',
      redrivenAt: record.headers[REDRIVE_HEADERS.redrivenAt] ?? '',
      markerOffset: record.offset,
    };
  }
  if (record.headers[DLQ_HEADERS.sourceTopic] !== undefined) return { kind: 'dead-letter', record };
  return { kind: 'other' };
}

/** A dead letter as an operator reads it; JSON-safe throughout. */
export interface DeadLetterSummary {
  readonly dlq: RecordPosition;
  readonly reason: string | null;
  readonly errorClass: string | null;
  readonly source: { readonly topic: string | null; readonly partition: number | null; readonly offset: string | null };
  readonly consumerGroup: string | null;
  readonly failedAt: string | null;
  readonly key: string | null;
  readonly eventType: string | null;
  readonly eventId: string | null;
  readonly valueBytes: number;
  /** The event as its reader decodes it (amounts as decimal strings), or null when it does not decode. */
  readonly event: unknown;
  /** Why it does not decode, with its size and first bytes in hex; null when it decodes. */
  readonly decodeProblem: string | null;
  readonly redriven: RedriveMark | null;
}

export function summarizeDeadLetter(record: InboundRecord, redriven: RedriveMark | null = null): DeadLetterSummary {
  const { headers } = record;
  const partition = headers[DLQ_HEADERS.sourcePartition];
  let event: unknown = null;
  let decodeProblem: string | null = null;
  try {
    event = toJsonSafe(fromRecord(record.value, headers).data);
  } catch (error) {
    decodeProblem = `does not decode (${error instanceof Error ? error.message : String(error)}); ${byteNote(record.value)}`;
  }
  return {
    dlq: { topic: record.topic, partition: record.partition, offset: record.offset },
    reason: headers[DLQ_HEADERS.reason] ?? null,
    errorClass: headers[DLQ_HEADERS.errorClass] ?? null,
    source: {
      topic: headers[DLQ_HEADERS.sourceTopic] ?? null,
      partition: partition !== undefined && /^\d+$/.test(partition) ? Number(partition) : null,
      offset: headers[DLQ_HEADERS.sourceOffset] ?? null,
    },
    consumerGroup: headers[DLQ_HEADERS.consumerGroup] ?? null,
    failedAt: headers[DLQ_HEADERS.failedAt] ?? null,
    key: record.key === null ? null : record.key.toString('utf8'),
    eventType: headers[CE_HEADERS.type] ?? null,
    eventId: headers[CE_HEADERS.id] ?? null,
    valueBytes: record.value?.length ?? 0,
    event,
    decodeProblem,
    redriven,
  };
}

function byteNote(value: Buffer | null): string {
  if (value === null || value.length === 0) return 'no value';
  if (value.length <= HEX_PREVIEW_BYTES) return `${value.length} bytes: ${value.toString('hex')}`;
  return `${value.length} bytes, first ${HEX_PREVIEW_BYTES}: ${value.subarray(0, HEX_PREVIEW_BYTES).toString('hex')}…`;
}

/** A decoded Avro value as JSON can carry it: bigints as decimal strings, bytes as hex, times as ISO 8601. */
export function toJsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonSafe);
  const result: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) result[name] = toJsonSafe(field);
  return result;
}

/** `<topic>/<partition>/<offset>`: how a position reads in a header. */
export function positionText(position: RecordPosition): string {
  return `${position.topic}/${position.partition}/${position.offset}`;
}

/** A record that cannot be re-driven: the message says which and why. */
export class RedriveRefused extends Error {
  override readonly name = 'RedriveRefused';
}

export interface RedriveMessage {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/**
 * The record that gives a dead letter another try: to its source topic and partition (where its key's
 * records are), with its original key, value and headers, without any dlq_* header, and with
 * `tributary_redriven_from` naming the dead letter.
 */
export function redriveMessage(record: InboundRecord): RedriveMessage {
  const where = positionText(record);
  const topic = record.headers[DLQ_HEADERS.sourceTopic];
  if (topic === undefined || topic.length === 0)
    throw new RedriveRefused(`${where} is not a dead letter: it has no ${DLQ_HEADERS.sourceTopic} header`);
  const partitionText = record.headers[DLQ_HEADERS.sourcePartition] ?? '';
  const partition = /^\d{1,10}$/.test(partitionText) ? Number(partitionText) : Number.NaN;
  if (!(partition <= PARTITION_MAX))
    throw new RedriveRefused(
      `${where}: ${DLQ_HEADERS.sourcePartition} must be a partition number, got '${partitionText}'`,
    );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (!name.startsWith(DLQ_HEADER_PREFIX) && name !== REDRIVE_HEADERS.redrivenFrom) headers[name] = value;
  }
  headers[REDRIVE_HEADERS.redrivenFrom] = where;
  return { topic, partition, key: record.key, value: record.value, headers };
}

/** The record appended to the DLQ once a dead letter was re-driven: it names the dead letter and where it went. */
export function redriveMarkerMessage(deadLetter: InboundRecord, redrivenTo: RecordPosition, at: Date) {
  const to = positionText(redrivenTo);
  return {
    key: `redrive:${deadLetter.offset}`,
    value: JSON.stringify({ redriven: positionText(deadLetter), to: redrivenTo, at: at.toISOString() }),
    headers: {
      [REDRIVE_HEADERS.marker]: deadLetter.offset,
      [REDRIVE_HEADERS.redrivenTo]: to,
      [REDRIVE_HEADERS.redrivenAt]: at.toISOString(),
    },
  };
}

/**
 * A DLQ partition read in offset order: its dead letters, which of them were re-driven, and how many
 * still wait (the depth). Fed incrementally, so a reader that keeps one reads only what is new.
 */
export class DeadLetterTally {
  private readonly waiting = new Set<string>();
  private readonly marks = new Map<string, RedriveMark>();
  private deadLetterCount = 0;
  private next = 0n;

  add(record: InboundRecord): void {
    this.advanceTo((BigInt(record.offset) + 1n).toString());
    const kind = classifyDlqRecord(record);
    if (kind.kind === 'dead-letter') {
      this.deadLetterCount += 1;
      if (!this.marks.has(record.offset)) this.waiting.add(record.offset);
    } else if (kind.kind === 'redrive-marker' && !this.marks.has(kind.deadLetterOffset)) {
      const { kind: _kind, ...mark } = kind;
      this.marks.set(kind.deadLetterOffset, mark);
      this.waiting.delete(kind.deadLetterOffset);
    }
  }

  /** Moves the read position past records that carried nothing (transaction markers, aborted records). */
  advanceTo(offset: string): void {
    const position = BigInt(offset);
    if (position > this.next) this.next = position;
  }

  /** Dead letters not re-driven. */
  get depth(): number {
    return this.waiting.size;
  }

  get deadLetters(): number {
    return this.deadLetterCount;
  }

  get redriven(): number {
    return this.marks.size;
  }

  /** The offset to read from next. */
  get nextOffset(): string {
    return this.next.toString();
  }

  redriveOf(deadLetterOffset: string): RedriveMark | undefined {
    return this.marks.get(deadLetterOffset);
  }
}
