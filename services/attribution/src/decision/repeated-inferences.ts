/** A decision made before, as the decision store keeps it: where its inference was read, and its content hash. */
export interface DecidedInference {
  readonly partition: number;
  readonly offset: bigint;
  /** SHA-256 of the inference record's value; null for decisions stored before hashes were kept. */
  readonly contentHash: Buffer | null;
}

/** What to do with an inference record, by its inferenceId and content. */
export type RepeatOutcome =
  | { readonly type: 'new' }
  /** The same content under a decided id: a producer retry or re-publish, skipped and counted. */
  | { readonly type: 'duplicate' }
  /** Other content under a decided id: another inference cannot take a used id; the record goes to the DLQ. */
  | { readonly type: 'conflict'; readonly reason: string };

/**
 * The decider's rule for an inferenceId seen again, over one batch of one inference partition. Every
 * copy of an id lands on that id's partition, so the decisions stored before (looked up under the
 * partition's claim) and those made earlier in the batch are all there is to compare with. The first
 * record decided under an id stands; a later one with the same SHA-256 of its value is a re-delivery; a
 * later one with another is a conflict, named with both hashes and where the id was decided. A decision
 * stored before hashes were kept takes any repeat as a re-delivery, as every repeat was taken before.
 */
export class RepeatedInferences {
  private readonly decidedById: Map<string, DecidedInference>;

  constructor(
    private readonly topic: string,
    decidedBefore: ReadonlyMap<string, DecidedInference>,
  ) {
    this.decidedById = new Map(decidedBefore);
  }

  check(inferenceId: string, contentHash: Buffer): RepeatOutcome {
    const first = this.decidedById.get(inferenceId);
    if (first === undefined) return { type: 'new' };
    if (first.contentHash === null || first.contentHash.equals(contentHash)) return { type: 'duplicate' };
    return {
      type: 'conflict',
      reason: inferenceIdConflictReason(
        inferenceId,
        `${this.topic}[${first.partition}]@${first.offset}`,
        first.contentHash,
        contentHash,
      ),
    };
  }

  /** Records a decision made in this batch: later records of the batch with its id are repeats of it. */
  decided(inferenceId: string, partition: number, offset: bigint, contentHash: Buffer): void {
    this.decidedById.set(inferenceId, { partition, offset, contentHash });
  }
}

/**
 * The DLQ reason of a second inference under a decided id: the field first (the rejection metric's
 * label), then where the id was decided and both hashes; the record key and dlq_source_* name this record.
 */
export function inferenceIdConflictReason(
  inferenceId: string,
  decidedAt: string,
  decidedHash: Buffer,
  contentHash: Buffer,
): string {
  return (
    `inferenceId: ${inferenceId} was already decided from ${decidedAt} with content sha256:${decidedHash.toString('hex')}; ` +
    `this record's content is sha256:${contentHash.toString('hex')}, and one id cannot name two inferences`
  );
}
