// Proves the pure parts of `npm run kafka -- offsets`: every flag is refused with a message naming it
// and its rule before anything is contacted, the groups and the schema that holds each one's offsets
// come from one map that matches the schemas the services migrate, and a reset plan moves each
// partition from its authoritative offset to the asked one, clamped to the log's start and end.
import { CommanderError } from 'commander';
import { offsetHomes } from '@tributary/contracts';
import { ATTRIBUTION_SCHEMA } from '../../../services/attribution/src/database/data-source-options';
import { LEDGER_SCHEMA } from '../../../services/ledger-projector/src/database/data-source-options';
import { buildProgram } from './cli';
import { ProvisionError } from './errors';
import { parseOffsetOption, parsePartitionOption, parseShiftOption, resetTargetOf } from './offsets-cli';
import { formatPlan, formatShow, groupHome, lagOf, planReset, selectedTopics, type PartitionOffsets } from './offsets';

const partition = (overrides: Partial<PartitionOffsets>): PartitionOffsets => ({
  topic: 'tributary.attributions',
  partition: 0,
  database: 500n,
  kafka: 500n,
  logStart: 0n,
  logEnd: 800n,
  ...overrides,
});

describe('where each group keeps its offsets', () => {
  it('names the schemas the services migrate their consumer_offsets into', () => {
    const homes = offsetHomes({});
    expect(homes.find((home) => home.groupId === 'tributary.ledger-projector')).toMatchObject({
      store: 'database',
      schema: LEDGER_SCHEMA,
      topics: ['tributary.attributions', 'tributary.payouts', 'tributary.funding'],
    });
    expect(homes.find((home) => home.groupId === 'tributary.attribution.tables')).toMatchObject({
      store: 'database',
      schema: ATTRIBUTION_SCHEMA,
    });
    expect(homes.find((home) => home.groupId === 'tributary.attribution')).toMatchObject({
      store: 'kafka',
      topics: ['tributary.inferences'],
    });
  });

  it('follows the prefix and the group variables the services read', () => {
    const homes = offsetHomes({ TRIBUTARY_TOPIC_PREFIX: 'staging.', ATTRIBUTION_GROUP_ID: 'attr-b' });
    expect(homes.map((home) => home.groupId)).toEqual([
      'staging.tributary.ledger-projector',
      'attr-b.tables',
      'attr-b',
    ]);
    expect(homes[0]!.topics).toEqual([
      'staging.tributary.attributions',
      'staging.tributary.payouts',
      'staging.tributary.funding',
    ]);
    expect(offsetHomes({ LEDGER_PROJECTOR_GROUP_ID: 'ledger-b' })[0]!.groupId).toBe('ledger-b');
  });

  it('refuses an unknown --group, listing the groups there are', () => {
    expect(() => groupHome('analytics.bi.x', {})).toThrow(ProvisionError);
    expect(() => groupHome('analytics.bi.x', {})).toThrow(
      "--group 'analytics.bi.x' is not a consumer group of this environment",
    );
    try {
      groupHome('nope', {});
    } catch (error) {
      expect((error as ProvisionError).hint).toContain(
        'tributary.ledger-projector, tributary.attribution.tables, tributary.attribution',
      );
    }
  });

  it('refuses a --topic the group does not read and a --partition without --topic', () => {
    const home = groupHome('tributary.ledger-projector', {});
    expect(selectedTopics(home, {})).toEqual(['tributary.attributions', 'tributary.payouts', 'tributary.funding']);
    expect(selectedTopics(home, { topic: 'tributary.payouts' })).toEqual(['tributary.payouts']);
    expect(() => selectedTopics(home, { topic: 'tributary.inferences' })).toThrow(
      "--topic 'tributary.inferences' is not a topic group tributary.ledger-projector reads",
    );
    expect(() => selectedTopics(home, { partition: 2 })).toThrow('--partition needs --topic');
  });
});

describe('flag values', () => {
  it('takes whole offsets, shifts and partitions', () => {
    expect(parseOffsetOption('0')).toBe(0n);
    expect(parseOffsetOption('9223372036854775807')).toBe(2n ** 63n - 1n);
    expect(parseShiftOption('-100')).toBe(-100n);
    expect(parseShiftOption('+25')).toBe(25n);
    expect(parsePartitionOption('5')).toBe(5);
  });

  it.each(['', 'abc', '-1', '1.5', '9223372036854775808', '1e3'])(
    'refuses --to-offset %p naming the flag and the rule',
    (value) => {
      expect(() => parseOffsetOption(value)).toThrow(
        `--to-offset must be a whole number from 0 to 9223372036854775807, got '${value}'`,
      );
    },
  );

  it.each(['', 'x', '1.5', '--', '99999999999999999999'])('refuses --shift-by %p', (value) => {
    expect(() => parseShiftOption(value)).toThrow(
      `--shift-by must be a whole number of records, negative to go back (e.g. -100), got '${value}'`,
    );
  });

  it.each(['', '-1', 'one', '100000'])('refuses --partition %p', (value) => {
    expect(() => parsePartitionOption(value)).toThrow(
      `--partition must be a partition number from 0 to 99999, got '${value}'`,
    );
  });

  it('wants exactly one of --to-earliest, --to-offset and --shift-by', () => {
    expect(resetTargetOf({ toEarliest: true })).toEqual({ kind: 'earliest' });
    expect(resetTargetOf({ toOffset: 7n })).toEqual({ kind: 'offset', offset: 7n });
    expect(resetTargetOf({ shiftBy: -3n })).toEqual({ kind: 'shift', by: -3n });
    const rule = 'exactly one of --to-earliest, --to-offset <n> and --shift-by <n> must be given';
    expect(() => resetTargetOf({})).toThrow(`${rule}, got none`);
    expect(() => resetTargetOf({ toEarliest: true, shiftBy: 1n })).toThrow(`${rule}, got --to-earliest and --shift-by`);
  });
});

describe('the command line', () => {
  let stderr: string[];
  beforeEach(() => {
    stderr = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const parse = (...args: string[]) => buildProgram().parseAsync(['node', 'cli', 'offsets', ...args]);

  it('requires --group', async () => {
    await expect(parse('show')).rejects.toBeInstanceOf(CommanderError);
    expect(stderr.join('')).toMatch(/^tributary: required option '--group <group>' not specified/);
  });

  it('refuses a bad value in one tributary line, before contacting anything', async () => {
    await expect(parse('reset', '--group', 'tributary.ledger-projector', '--to-offset', 'ten')).rejects.toBeInstanceOf(
      CommanderError,
    );
    expect(stderr.join('')).toMatch(
      /^tributary: option '--to-offset <n>' argument 'ten' is invalid\. --to-offset must be a whole number/,
    );
    expect(stderr.join('').trim().split('\n')).toHaveLength(1);
  });

  it("takes a negative --shift-by as the flag's value", async () => {
    await expect(parse('reset', '--group', 'no-such-group', '--shift-by', '-5')).rejects.toThrow(
      "--group 'no-such-group' is not a consumer group",
    );
  });

  it('refuses two targets at once', async () => {
    await expect(
      parse('reset', '--group', 'tributary.ledger-projector', '--to-earliest', '--to-offset', '3'),
    ).rejects.toThrow(
      'exactly one of --to-earliest, --to-offset <n> and --shift-by <n> must be given, got --to-earliest and --to-offset',
    );
  });
});

describe('a reset plan', () => {
  const database = { store: 'database' as const };

  it("moves from the database's offset, the authoritative one, to the log start", () => {
    const [move] = planReset(database, [partition({ database: 500n, kafka: 480n, logStart: 10n })], {
      kind: 'earliest',
    });
    expect(move).toMatchObject({ from: 500n, to: 10n, clampedTo: null });
  });

  it("starts from the log start where the database holds nothing, and from Kafka's for a Kafka group", () => {
    expect(
      planReset(database, [partition({ database: null, kafka: 300n })], { kind: 'shift', by: 5n })[0],
    ).toMatchObject({ from: 0n, to: 5n });
    expect(
      planReset({ store: 'kafka' }, [partition({ database: null, kafka: 300n })], { kind: 'shift', by: -5n })[0],
    ).toMatchObject({ from: 300n, to: 295n });
  });

  it('clamps to the log start and the log end', () => {
    expect(planReset(database, [partition({ logStart: 100n })], { kind: 'shift', by: -1_000n })[0]).toMatchObject({
      to: 100n,
      clampedTo: 'log start',
    });
    expect(planReset(database, [partition({})], { kind: 'offset', offset: 5_000n })[0]).toMatchObject({
      to: 800n,
      clampedTo: 'log end',
    });
    expect(planReset(database, [partition({})], { kind: 'offset', offset: 800n })[0]).toMatchObject({
      to: 800n,
      clampedTo: null,
    });
  });

  it('prints what moves, and whether it was a dry run', () => {
    const home = groupHome('tributary.ledger-projector', {});
    const moves = planReset(home, [partition({ partition: 0 }), partition({ partition: 1, database: 0n })], {
      kind: 'offset',
      offset: 900n,
    });
    expect(formatPlan(home, moves, false).split('\n')).toEqual([
      'group tributary.ledger-projector: would set these offsets in the database and Kafka (dry run: add --execute to apply):',
      'TOPIC                   PARTITION  FROM  TO   MOVE',
      'tributary.attributions  0          500   800  +300 (clamped to the log end)',
      'tributary.attributions  1          0     800  +800 (clamped to the log end)',
    ]);
    expect(formatPlan(home, planReset(home, [partition({})], { kind: 'shift', by: 0n }), true)).toContain(
      'offsets set in the database and Kafka (database first):',
    );
    expect(formatPlan(home, planReset(home, [partition({})], { kind: 'shift', by: 0n }), true)).toMatch(
      /500\s+500\s+unchanged$/,
    );
  });

  it('shows both copies, the log and the lag by the authoritative copy', () => {
    const home = groupHome('tributary.ledger-projector', {});
    expect(lagOf(home, partition({ database: 500n, kafka: 800n }))).toBe(300n);
    const text = formatShow(
      home,
      [{ memberId: 'm-1', clientId: 'tributary', clientHost: '/127.0.0.1' }],
      [partition({ kafka: null })],
    );
    expect(text.split('\n')).toEqual([
      "group tributary.ledger-projector (ledger-projector): offsets in PostgreSQL schema ledger, consumer_offsets (authoritative); Kafka's committed offsets are a copy for lag tools",
      'members: 1 active: m-1 (client tributary on 127.0.0.1)',
      'TOPIC                   PARTITION  DATABASE  KAFKA  LOG-START  LOG-END  LAG',
      'tributary.attributions  0          500       -      0          800      300',
    ]);
  });
});
