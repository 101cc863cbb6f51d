// Proves the rule a consumer applies when it joins its group and finds Kafka's committed offset for a
// partition unlike the one its database holds: equal copies, or Kafka's copy being the one this process
// last committed (its own lag), pass in silence; any other difference (a reset with kafka-consumer-groups,
// or a crash between the database commit and Kafka's) is refused with one line naming the group, the
// partition, both offsets and the command that moves offsets, and the database's offset is kept.
import { judgeCommittedOffset, offsetDivergenceWarning } from './offset-divergence';

describe("judging Kafka's committed offset against the database's at join time", () => {
  it('agrees when both copies are equal, or when Kafka holds none', () => {
    expect(judgeCommittedOffset({ database: '120', kafka: '120', lastCommittedHere: null })).toEqual({
      verdict: 'agree',
    });
    expect(judgeCommittedOffset({ database: '120', kafka: null, lastCommittedHere: null })).toEqual({
      verdict: 'agree',
    });
    expect(judgeCommittedOffset({ database: null, kafka: null, lastCommittedHere: null })).toEqual({
      verdict: 'agree',
    });
    expect(judgeCommittedOffset({ database: null, kafka: '0', lastCommittedHere: null })).toEqual({ verdict: 'agree' });
  });

  it("takes Kafka's copy for this process's own lag when it is what this process last committed", () => {
    // A commit to Kafka failed in a rebalance after the database had moved on.
    expect(judgeCommittedOffset({ database: '500', kafka: '480', lastCommittedHere: '480' })).toEqual({
      verdict: 'own-lag',
    });
  });

  it('refuses a rewind it did not make (kafka-consumer-groups --to-earliest while the service was stopped)', () => {
    expect(judgeCommittedOffset({ database: '500', kafka: '0', lastCommittedHere: null })).toEqual({
      verdict: 'refuse',
      database: '500',
      kafka: '0',
    });
    expect(judgeCommittedOffset({ database: '500', kafka: '0', lastCommittedHere: '500' })).toEqual({
      verdict: 'refuse',
      database: '500',
      kafka: '0',
    });
  });

  it('refuses a move forward too: skipping records is no less a change of what the ledger holds', () => {
    expect(judgeCommittedOffset({ database: '500', kafka: '900', lastCommittedHere: null })).toEqual({
      verdict: 'refuse',
      database: '500',
      kafka: '900',
    });
  });

  it('refuses a Kafka offset for a partition the database has applied nothing of (its position is the log start)', () => {
    expect(judgeCommittedOffset({ database: null, kafka: '40', lastCommittedHere: null })).toEqual({
      verdict: 'refuse',
      database: null,
      kafka: '40',
    });
  });

  it('compares offsets as numbers, not as text', () => {
    expect(judgeCommittedOffset({ database: '0100', kafka: '100', lastCommittedHere: null })).toEqual({
      verdict: 'agree',
    });
    expect(judgeCommittedOffset({ database: '9', kafka: '10', lastCommittedHere: '10' })).toEqual({
      verdict: 'own-lag',
    });
  });
});

describe('the refusal line', () => {
  it('names the group, topic, partition, both offsets, what was kept and the command to use', () => {
    const line = offsetDivergenceWarning('tributary.ledger-projector', 'tributary.attributions', 3, {
      verdict: 'refuse',
      database: '500',
      kafka: '0',
    });
    expect(line).toBe(
      "group tributary.ledger-projector tributary.attributions[3]: Kafka's committed offset 0 differs from the database's 500 " +
        "(a reset with kafka-consumer-groups, or a crash between the two commits); refused: consuming from the database's 500, " +
        "the authoritative copy, and setting Kafka's back to it. To move this group's offsets, stop its members and run " +
        '`npm run kafka -- offsets reset --group tributary.ledger-projector --topic tributary.attributions --partition 3 --to-offset 0 --execute`',
    );
  });

  it('says the log start when the database holds no offset for the partition', () => {
    const line = offsetDivergenceWarning('g', 't', 0, { verdict: 'refuse', database: null, kafka: '40' });
    expect(line).toContain("differs from the database's none (the log start)");
    expect(line).toContain('consuming from the log start, the authoritative position');
  });
});
