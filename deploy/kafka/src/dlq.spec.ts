// Proves the DLQ commands refuse every bad flag before touching Kafka, with a message naming the flag and
// its rule (--group, --limit, --reason-contains, --offset as one offset or a range, repeated), and that a
// listing line and a show block say what an operator needs, by parsing and formatting without a broker.
import { CommanderError } from 'commander';
import { catalogFor } from '@tributary/contracts';
import type { DeadLetterSummary } from '@tributary/messaging';
import { buildProgram } from './cli';
import {
  formatDeadLetter,
  formatListLine,
  parseLimit,
  parseOffset,
  parseOffsets,
  parseReasonContains,
  resolveGroup,
} from './dlq';

const catalog = catalogFor('env.');

describe('DLQ flags', () => {
  it('accepts a group by its full name or by its name after tributary.', () => {
    expect(resolveGroup('env.tributary.ledger-projector', catalog)).toBe('env.tributary.ledger-projector');
    expect(resolveGroup('ledger-projector', catalog)).toBe('env.tributary.ledger-projector');
    expect(resolveGroup('attribution.tables', catalog)).toBe('env.tributary.attribution.tables');
  });

  it.each(['tributary.ledger-projector', 'nobody', '', 'env.tributary.ledger-projector.dlq'])(
    'refuses --group %p, listing the groups',
    (value) => {
      expect(() => resolveGroup(value, catalog)).toThrow(
        `--group must be a consumer group of the catalog (env.tributary.attribution, env.tributary.attribution.tables, env.tributary.ledger-projector, env.tributary.payouts; or the part after 'env.tributary.'), got '${value}'`,
      );
    },
  );

  it('accepts --limit from 1 to 10000', () => {
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('10000')).toBe(10_000);
  });

  it.each(['0', '10001', '-1', '2.5', 'ten', ''])('refuses --limit %p', (value) => {
    expect(() => parseLimit(value)).toThrow(`--limit must be an integer from 1 to 10000, got '${value}'`);
  });

  it('accepts --reason-contains of 1 to 256 characters, and refuses others', () => {
    expect(parseReasonContains('overdraft')).toBe('overdraft');
    expect(() => parseReasonContains('')).toThrow(
      "--reason-contains must be 1 to 256 characters without control characters, got ''",
    );
    expect(() => parseReasonContains('x'.repeat(257))).toThrow(/^--reason-contains must be 1 to 256 characters/);
    expect(() => parseReasonContains('a\nb')).toThrow(
      /^--reason-contains must be 1 to 256 characters without control characters/,
    );
  });

  it('accepts an --offset of a non-negative int64', () => {
    expect(parseOffset('0')).toBe('0');
    expect(parseOffset('9223372036854775807')).toBe('9223372036854775807');
  });

  it.each(['-1', '1.5', 'x', '', '9223372036854775808', '01'])('refuses --offset %p', (value) => {
    expect(() => parseOffset(value)).toThrow(
      `--offset must be a non-negative integer offset of the DLQ, got '${value}'`,
    );
  });

  it('collects repeated --offset values and ranges in order, once each', () => {
    expect(parseOffsets('3', [])).toEqual(['3']);
    expect(parseOffsets('5-7', ['3'])).toEqual(['3', '5', '6', '7']);
    expect(parseOffsets('6', ['3', '5', '6', '7'])).toEqual(['3', '5', '6', '7']);
  });

  it('refuses a backwards range, a range too long, and more than 1000 offsets in all', () => {
    expect(() => parseOffsets('7-5', [])).toThrow(
      "--offset range must run from a lower to a higher offset (a-b, a <= b), got '7-5'",
    );
    expect(() => parseOffsets('0-1000', [])).toThrow('--offset must select at most 1000 offsets in all, got 1001');
    expect(() =>
      parseOffsets(
        '1000',
        Array.from({ length: 1000 }, (_, index) => String(index)),
      ),
    ).toThrow('--offset must select at most 1000 offsets in all, got 1001');
    expect(() => parseOffsets('a-b', [])).toThrow("--offset must be a non-negative integer offset of the DLQ, got 'a'");
  });
});

describe('the dlq commands as parsed', () => {
  let stderr: string[];

  beforeEach(() => {
    stderr = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it.each([
    [
      ['dlq', 'list', '--group', 'ledger-projector', '--limit', '0'],
      /--limit must be an integer from 1 to 10000, got '0'/,
    ],
    [['dlq', 'show', '--group', 'ledger-projector'], /required option '--offset <offset>' not specified/],
    [
      ['dlq', 'show', '--group', 'ledger-projector', '--offset', 'x'],
      /--offset must be a non-negative integer offset of the DLQ, got 'x'/,
    ],
    [
      ['dlq', 'redrive', '--group', 'ledger-projector', '--offset', '9-2'],
      /--offset range must run from a lower to a higher offset/,
    ],
    [['dlq', 'redrive', '--offset', '1'], /required option '--group <name>' not specified/],
    [
      ['dlq', 'list', '--group', 'ledger-projector', '--reason-contains', ''],
      /--reason-contains must be 1 to 256 characters/,
    ],
  ])('refuses %p with one tributary line before connecting', async (argv, message) => {
    await expect(buildProgram().parseAsync(['node', 'cli', ...argv])).rejects.toBeInstanceOf(CommanderError);
    expect(stderr.join('')).toMatch(message);
    expect(stderr.join('')).toMatch(/^tributary: /);
    expect(stderr.join('').trim().split('\n')).toHaveLength(1);
  });
});

describe('formatting', () => {
  const summary: DeadLetterSummary = {
    dlq: { topic: 'tributary.ledger-projector.dlq', partition: 0, offset: '5' },
    reason: 'contributor:c1: payout of 100 USDC exceeds the balance 0',
    errorClass: 'PayoutRejectedError',
    source: { topic: 'tributary.payouts', partition: 4, offset: '17' },
    consumerGroup: 'tributary.ledger-projector',
    failedAt: '2026-12-01T10:00:00.000Z',
    key: 'contributor:c1',
    eventType: 'tributary.payouts.PayoutRequested',
    eventId: 'requested:p1',
    valueBytes: 50,
    event: { eventId: 'requested:p1', amountMinor: '100' },
    decodeProblem: null,
    redriven: null,
  };

  it('lists one line per dead letter: offset, time, source, event, reason and whether it was re-driven', () => {
    expect(formatListLine(summary)).toBe(
      '5\twaiting\t2026-12-01T10:00:00.000Z\ttributary.payouts/4/17\tPayoutRequested requested:p1\tcontributor:c1: payout of 100 USDC exceeds the balance 0',
    );
    const redriven = {
      ...summary,
      redriven: {
        deadLetterOffset: '5',
        redrivenTo: 'tributary.payouts/4/40',
        redrivenAt: '2026-12-02T00:00:00.000Z',
        markerOffset: '6',
      },
    };
    expect(formatListLine(redriven)).toMatch(/^5\tre-driven\t/);
  });

  it('shows every field and the decoded event', () => {
    const text = formatDeadLetter(summary);
    for (const expected of [
      'dead letter  tributary.ledger-projector.dlq/0/5',
      'reason       contributor:c1: payout',
      'error class  PayoutRejectedError',
      'source       tributary.payouts/4/17',
      'group        tributary.ledger-projector',
      'failed at    2026-12-01T10:00:00.000Z',
      'key          contributor:c1',
      'event        tributary.payouts.PayoutRequested requested:p1',
      're-driven    no',
      '"amountMinor": "100"',
    ]) {
      expect(text).toContain(expected);
    }
    expect(
      formatDeadLetter({ ...summary, event: null, decodeProblem: 'does not decode (x); 3 bytes: 010203' }),
    ).toContain('value        does not decode (x); 3 bytes: 010203');
  });
});
