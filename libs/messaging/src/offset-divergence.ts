/**
 * What a consumer whose offsets live in its database does when it joins its group and finds Kafka's
 * committed offset for a partition unlike the database's. The database copy is authoritative: it moves
 * in the same transaction as the effects, so honouring another position would apply records twice or
 * leave them out. Kafka's copy is there for lag tools, and an operator who moves it with
 * `kafka-consumer-groups --reset-offsets` means something by it; so a difference is never ignored in
 * silence. The rule, per assigned partition:
 *
 * - Kafka holds no offset, or the same one: agree.
 * - Kafka holds exactly what this process last committed there (a later commit failed in a rebalance
 *   while the database moved on): its own lag; the database's offset is used, nothing is said.
 * - Anything else: refuse. Kafka's copy was moved by someone else (a reset with Kafka's tool while the
 *   members were stopped) or was left behind by a crash between the database commit and Kafka's. The
 *   consumer keeps the database's offset, sets Kafka's back to it, and says so in one warn line naming
 *   the group, the partition, both offsets and the command that moves both copies together.
 *
 * A partition the database holds no offset for starts at the log start (nothing of it is applied); event
 * topics are kept forever, so that is offset 0, and a Kafka offset of 0 agrees with it.
 */
export type CommittedOffsetJudgement =
  | { readonly verdict: 'agree' }
  | { readonly verdict: 'own-lag' }
  | { readonly verdict: 'refuse'; readonly database: string | null; readonly kafka: string };

export interface CommittedOffsetFacts {
  /** The database's next offset of the partition, or null when it holds none. */
  readonly database: string | null;
  /** Kafka's committed offset of the group for the partition, or null when it holds none. */
  readonly kafka: string | null;
  /** What this process last committed to Kafka for the partition, or null when it committed nothing. */
  readonly lastCommittedHere: string | null;
}

export function judgeCommittedOffset(facts: CommittedOffsetFacts): CommittedOffsetJudgement {
  const { database, kafka, lastCommittedHere } = facts;
  if (kafka === null) return { verdict: 'agree' };
  if (BigInt(kafka) === BigInt(database ?? '0')) return { verdict: 'agree' };
  if (lastCommittedHere !== null && BigInt(kafka) === BigInt(lastCommittedHere)) return { verdict: 'own-lag' };
  return { verdict: 'refuse', database, kafka };
}

/** The one warn line of a refusal; it names the command that would have moved both copies together. */
export function offsetDivergenceWarning(
  groupId: string,
  topic: string,
  partition: number,
  judgement: Extract<CommittedOffsetJudgement, { verdict: 'refuse' }>,
): string {
  const { database, kafka } = judgement;
  const kept =
    database === null
      ? 'consuming from the log start, the authoritative position'
      : `consuming from the database's ${database}, the authoritative copy, and setting Kafka's back to it`;
  return (
    `group ${groupId} ${topic}[${partition}]: Kafka's committed offset ${kafka} differs from the database's ${database ?? 'none (the log start)'} ` +
    `(a reset with kafka-consumer-groups, or a crash between the two commits); refused: ${kept}. ` +
    `To move this group's offsets, stop its members and run ` +
    `\`npm run kafka -- offsets reset --group ${groupId} --topic ${topic} --partition ${partition} --to-offset ${kafka} --execute\``
  );
}
