import { z } from 'zod';
import { assertBalanced, type Posting } from '@tributary/ledger';
import type { InboundRecord } from '@tributary/messaging';

/** What the projector needs of one InferenceAttributed decision: its id and its postings. */
export interface AttributionToApply {
  readonly eventId: string;
  readonly transactionId: string;
  readonly postings: readonly Posting[];
}

const POSTINGS_MAX = 10_001;
const amountMinor = z.string().regex(/^-?\d{1,19}$/, 'must be an integer in minor units, as a decimal string').transform(BigInt);
const attributionSchema = z.object({
  eventId: z.string().min(1).max(256),
  inferenceId: z.string().min(1).max(256),
  postings: z
    .array(z.object({ account: z.string().min(1).max(512), asset: z.string().min(1).max(32), amountMinor }))
    .min(2, 'a ledger transaction has at least two postings')
    .max(POSTINGS_MAX),
});

/** A record that cannot enter the ledger; the reason names the field and the rule, and goes to the DLQ. */
export class RecordRejected extends Error {
  override readonly name = 'RecordRejected';
}

/**
 * Reads an attribution decision off the wire. Issue #3 replaces the JSON body with the Avro
 * InferenceAttributed record; the checks below stay the same.
 */
export function readAttribution(record: InboundRecord): AttributionToApply {
  if (!record.value) throw new RecordRejected('value: is empty (a tombstone), expected an attribution decision');
  let body: unknown;
  try {
    body = JSON.parse(record.value.toString('utf8'));
  } catch {
    throw new RecordRejected('value: does not decode as an attribution decision');
  }
  const parsed = attributionSchema.safeParse(body);
  if (!parsed.success) {
    throw new RecordRejected(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  try {
    assertBalanced(parsed.data.postings);
  } catch (error) {
    throw new RecordRejected(`postings: ${(error as Error).message}`);
  }
  return { eventId: parsed.data.eventId, transactionId: parsed.data.inferenceId, postings: parsed.data.postings };
}
