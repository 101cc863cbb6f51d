import { type Command, InvalidArgumentError } from 'commander';
import { groupHome, resetOffsets, showOffsets, type ResetTarget, type Selection } from './offsets';

/**
 * `offsets show` and `offsets reset`: a consumer group's offsets as the operator sees and moves them,
 * the database's copy and Kafka's together (offsets.ts). Connects as KAFKA_USERNAME (the operator by
 * default) to KAFKA_BROKERS and to DATABASE_URL, like the services' own commands.
 */
const OFFSET_MAX = 2n ** 63n - 1n;
const PARTITION_MAX = 99_999;

export function parseOffsetOption(value: string): bigint {
  const offset = /^\d{1,19}$/.test(value) ? BigInt(value) : -1n;
  if (offset < 0n || offset > OFFSET_MAX)
    throw new InvalidArgumentError(`--to-offset must be a whole number from 0 to ${OFFSET_MAX}, got '${value}'`);
  return offset;
}

export function parseShiftOption(value: string): bigint {
  if (!/^[+-]?\d{1,19}$/.test(value))
    throw new InvalidArgumentError(
      `--shift-by must be a whole number of records, negative to go back (e.g. -100), got '${value}'`,
    );
  return BigInt(value);
}

export function parsePartitionOption(value: string): number {
  const partition = /^\d{1,5}$/.test(value) ? Number(value) : -1;
  if (partition < 0 || partition > PARTITION_MAX)
    throw new InvalidArgumentError(`--partition must be a partition number from 0 to ${PARTITION_MAX}, got '${value}'`);
  return partition;
}

function parseGroupOption(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(value))
    throw new InvalidArgumentError(
      `--group must be 1-249 characters of letters, digits, ".", "_" or "-", got '${value}'`,
    );
  return value;
}

function parseTopicOption(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(value))
    throw new InvalidArgumentError(
      `--topic must be 1-249 characters of letters, digits, ".", "_" or "-", got '${value}'`,
    );
  return value;
}

export interface ResetFlags {
  readonly toEarliest?: boolean;
  readonly toOffset?: bigint;
  readonly shiftBy?: bigint;
}

/** Exactly one target, as kafka-consumer-groups wants it. */
export function resetTargetOf(flags: ResetFlags): ResetTarget {
  const given = [
    flags.toEarliest ? '--to-earliest' : null,
    flags.toOffset !== undefined ? '--to-offset' : null,
    flags.shiftBy !== undefined ? '--shift-by' : null,
  ].filter((flag): flag is string => flag !== null);
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      `exactly one of --to-earliest, --to-offset <n> and --shift-by <n> must be given, got ${given.length === 0 ? 'none' : given.join(' and ')}`,
    );
  }
  if (flags.toEarliest) return { kind: 'earliest' };
  if (flags.toOffset !== undefined) return { kind: 'offset', offset: flags.toOffset };
  return { kind: 'shift', by: flags.shiftBy! };
}

export function addOffsetCommands(program: Command): void {
  const offsets = program
    .command('offsets')
    .description(
      "a consumer group's offsets: the database's (authoritative) and Kafka's copy, shown and moved together",
    );
  const selection = (command: Command) =>
    command
      .requiredOption('--group <group>', 'the consumer group, e.g. tributary.ledger-projector', parseGroupOption)
      .option('--topic <topic>', 'only this topic of the group', parseTopicOption)
      .option('--partition <n>', 'only this partition of --topic', parsePartitionOption);
  selection(
    offsets
      .command('show')
      .description("per partition: the database's offset, Kafka's committed offset, the log start and end, the lag"),
  ).action(async (flags: Selection & { group: string }) => {
    process.stdout.write(`${await showOffsets(groupHome(flags.group), flags)}\n`);
  });
  selection(
    offsets
      .command('reset')
      .description(
        'move the offsets of a stopped group in the database and in Kafka to the same values, clamped to the log; a dry run without --execute',
      ),
  )
    .option('--to-earliest', 'to the start of each log')
    .option('--to-offset <n>', 'to this offset', parseOffsetOption)
    .option('--shift-by <n>', 'by this many records from the current position (negative: back)', parseShiftOption)
    .option('--execute', 'apply the plan (refused while the group has an active member)', false)
    .action(async (flags: Selection & ResetFlags & { group: string; execute: boolean }, command: Command) => {
      let target: ResetTarget;
      try {
        target = resetTargetOf(flags);
      } catch (error) {
        command.error((error as Error).message, { exitCode: 1 });
      }
      process.stdout.write(`${await resetOffsets(groupHome(flags.group), flags, target!, flags.execute)}\n`);
    });
}
