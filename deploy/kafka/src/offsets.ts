import { Client } from 'pg';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { ConfigError, databaseEnv, kafkaClientOptions, kafkaEnv } from '@tributary/config';
import { offsetHomeOf, offsetHomes, type OffsetHome } from '@tributary/contracts';
import { ProvisionError } from './errors';

/**
 * The operator's view and reset of a consumer group's offsets. For a group whose offsets live in its
 * service's database (offset-homes.ts) the database's `consumer_offsets` rows are the authoritative
 * copy and Kafka's committed offsets a copy for lag tools, so a reset writes both, the database first,
 * to the same values, clamped to the log, and only while the group has no active member: a running
 * member would go on from its own position and overwrite both.
 */
export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'offset'; readonly offset: bigint }
  | { readonly kind: 'shift'; readonly by: bigint };

export interface PartitionOffsets {
  readonly topic: string;
  readonly partition: number;
  /** The database's next offset, or null when it holds none (or the group keeps its offsets in Kafka). */
  readonly database: bigint | null;
  /** Kafka's committed offset of the group, or null when it holds none. */
  readonly kafka: bigint | null;
  readonly logStart: bigint;
  readonly logEnd: bigint;
}

export interface PlannedMove extends PartitionOffsets {
  readonly from: bigint;
  readonly to: bigint;
  /** Set when the asked offset lay outside the log and was moved to its edge. */
  readonly clampedTo: 'log start' | 'log end' | null;
}

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
}

/** Where the group reads next: the authoritative copy, or the log start when it holds none. */
export function currentPosition(home: Pick<OffsetHome, 'store'>, offsets: PartitionOffsets): bigint {
  const authoritative = home.store === 'database' ? offsets.database : offsets.kafka;
  return authoritative ?? offsets.logStart;
}

/** Records the group has not applied yet, per its authoritative copy. */
export function lagOf(home: Pick<OffsetHome, 'store'>, offsets: PartitionOffsets): bigint {
  const lag = offsets.logEnd - currentPosition(home, offsets);
  return lag > 0n ? lag : 0n;
}

export function planReset(
  home: Pick<OffsetHome, 'store'>,
  partitions: readonly PartitionOffsets[],
  target: ResetTarget,
): PlannedMove[] {
  return partitions.map((offsets) => {
    const from = currentPosition(home, offsets);
    const asked =
      target.kind === 'earliest' ? offsets.logStart : target.kind === 'offset' ? target.offset : from + target.by;
    if (asked < offsets.logStart) return { ...offsets, from, to: offsets.logStart, clampedTo: 'log start' };
    if (asked > offsets.logEnd) return { ...offsets, from, to: offsets.logEnd, clampedTo: 'log end' };
    return { ...offsets, from, to: asked, clampedTo: null };
  });
}

const show = (value: bigint | null) => (value === null ? '-' : value.toString());

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

function homeLine(home: OffsetHome): string {
  return home.store === 'database'
    ? `group ${home.groupId} (${home.service}): offsets in PostgreSQL schema ${home.schema}, consumer_offsets (authoritative); Kafka's committed offsets are a copy for lag tools`
    : `group ${home.groupId} (${home.service}): offsets in Kafka only (committed in its transactions); kafka-consumer-groups --reset-offsets works on it as well`;
}

function membersLine(members: readonly GroupMember[]): string {
  if (members.length === 0) return 'members: none (stopped)';
  return `members: ${members.length} active: ${members.map(describeMember).join(', ')}`;
}

const describeMember = (member: GroupMember) =>
  `${member.memberId} (client ${member.clientId} on ${member.clientHost.replace(/^\//, '')})`;

export function formatShow(
  home: OffsetHome,
  members: readonly GroupMember[],
  partitions: readonly PartitionOffsets[],
): string {
  const rows = partitions.map((offsets) => [
    offsets.topic,
    String(offsets.partition),
    home.store === 'database' ? show(offsets.database) : 'n/a',
    show(offsets.kafka),
    offsets.logStart.toString(),
    offsets.logEnd.toString(),
    lagOf(home, offsets).toString(),
  ]);
  return [
    homeLine(home),
    membersLine(members),
    ...table(['TOPIC', 'PARTITION', 'DATABASE', 'KAFKA', 'LOG-START', 'LOG-END', 'LAG'], rows),
  ].join('\n');
}

export function formatPlan(home: OffsetHome, moves: readonly PlannedMove[], executed: boolean): string {
  const where = home.store === 'database' ? 'database and Kafka' : 'Kafka';
  const heading = executed
    ? `group ${home.groupId}: offsets set in the ${where} (database first):`
    : `group ${home.groupId}: would set these offsets in the ${where} (dry run: add --execute to apply):`;
  const rows = moves.map((move) => [
    move.topic,
    String(move.partition),
    move.from.toString(),
    move.to.toString(),
    move.to === move.from
      ? 'unchanged'
      : `${move.to > move.from ? '+' : ''}${(move.to - move.from).toString()}${move.clampedTo ? ` (clamped to the ${move.clampedTo})` : ''}`,
  ]);
  return [heading, ...table(['TOPIC', 'PARTITION', 'FROM', 'TO', 'MOVE'], rows)].join('\n');
}

/** The group named by --group, or a refusal naming the flag and the groups this environment has. */
export function groupHome(groupId: string, env: NodeJS.ProcessEnv = process.env): OffsetHome {
  const home = offsetHomeOf(groupId, env);
  if (home) return home;
  throw new ProvisionError(
    `--group '${groupId}' is not a consumer group of this environment`,
    `it must be one of ${offsetHomes(env)
      .map((known) => known.groupId)
      .join(', ')} (TRIBUTARY_TOPIC_PREFIX, LEDGER_PROJECTOR_GROUP_ID and ATTRIBUTION_GROUP_ID name them)`,
  );
}

export interface Selection {
  readonly topic?: string;
  readonly partition?: number;
}

/** The topics a --topic/--partition selection covers; a topic outside the group's is refused by name. */
export function selectedTopics(home: OffsetHome, selection: Selection): string[] {
  if (selection.partition !== undefined && selection.topic === undefined) {
    throw new ProvisionError('--partition needs --topic', 'name the topic the partition belongs to');
  }
  if (selection.topic === undefined) return [...home.topics];
  if (!home.topics.includes(selection.topic)) {
    throw new ProvisionError(
      `--topic '${selection.topic}' is not a topic group ${home.groupId} reads`,
      `it must be one of ${home.topics.join(', ')}`,
    );
  }
  return [selection.topic];
}

/** What the commands need from outside: an admin client and, for database groups, a connection. */
export interface OffsetsContext {
  readonly admin: Admin;
  readonly sql: Client | null;
}

/** Runs `use` with the operator's admin client (KAFKA_* variables, `operator` by default) and DATABASE_URL. */
export async function withOffsetsContext<T>(
  home: OffsetHome,
  use: (context: OffsetsContext) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  let config: ReturnType<typeof kafkaEnv>;
  let databaseUrl: string;
  try {
    config = kafkaEnv(env);
    databaseUrl = databaseEnv(env).DATABASE_URL;
  } catch (error) {
    if (error instanceof ConfigError) throw new ProvisionError(error.message, 'set the variable it names');
    throw error;
  }
  const admin = new Kafka({
    ...kafkaClientOptions(config, 'tributary-operator-offsets'),
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  }).admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new ProvisionError(
      `cannot reach Kafka at ${config.KAFKA_BROKERS.join(',')} as ${config.kafkaSecurity.mode === 'plaintext' ? 'an anonymous client' : config.kafkaSecurity.username}: ${(error as Error).message}`,
      'is the broker running, and are KAFKA_BROKERS and the credentials right?',
    );
  }
  let sql: Client | null = null;
  try {
    if (home.store === 'database') {
      sql = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
      try {
        await sql.connect();
      } catch (error) {
        throw new ProvisionError(
          `cannot reach PostgreSQL at ${new URL(databaseUrl).host}: ${(error as Error).message}`,
          "start it or point DATABASE_URL at the service's database",
        );
      }
    }
    return await use({ admin, sql });
  } finally {
    await sql?.end().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

export async function activeMembers(admin: Admin, groupId: string): Promise<GroupMember[]> {
  const { groups } = await admin.describeGroups([groupId]);
  return (groups[0]?.members ?? []).map(({ memberId, clientId, clientHost }) => ({ memberId, clientId, clientHost }));
}

const quoted = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

async function databaseOffsets(
  sql: Client,
  schema: string,
  groupId: string,
  topics: readonly string[],
): Promise<Map<string, bigint>> {
  try {
    const { rows } = await sql.query<{ topic: string; partition: number; next_offset: string }>(
      `SELECT topic, partition, next_offset::text FROM ${quoted(schema)}.consumer_offsets WHERE group_id = $1 AND topic = ANY($2)`,
      [groupId, topics],
    );
    return new Map(rows.map((row) => [`${row.topic}\u0000${row.partition}`, BigInt(row.next_offset)]));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000') {
      throw new ProvisionError(
        `the database has no ${schema}.consumer_offsets table`,
        'start the service once so it migrates its schema, or point DATABASE_URL at its database',
      );
    }
    throw error;
  }
}

/** Every selected partition with both copies of the group's offset and the log's bounds. */
export async function readGroupOffsets(
  context: OffsetsContext,
  home: OffsetHome,
  selection: Selection,
): Promise<PartitionOffsets[]> {
  const topics = selectedTopics(home, selection);
  const stored =
    home.store === 'database' && context.sql
      ? await databaseOffsets(context.sql, home.schema, home.groupId, topics)
      : new Map<string, bigint>();
  const committed = new Map<string, bigint>();
  for (const { topic, partitions } of await context.admin.fetchOffsets({ groupId: home.groupId, topics })) {
    for (const { partition, offset } of partitions)
      if (BigInt(offset) >= 0n) committed.set(`${topic}\u0000${partition}`, BigInt(offset));
  }
  const result: PartitionOffsets[] = [];
  for (const topic of topics) {
    const bounds = (await context.admin.fetchTopicOffsets(topic)).sort(
      (left, right) => left.partition - right.partition,
    );
    for (const { partition, low, high } of bounds) {
      if (selection.partition !== undefined && partition !== selection.partition) continue;
      const key = `${topic}\u0000${partition}`;
      result.push({
        topic,
        partition,
        database: stored.get(key) ?? null,
        kafka: committed.get(key) ?? null,
        logStart: BigInt(low),
        logEnd: BigInt(high),
      });
    }
    if (selection.partition !== undefined && !bounds.some((bound) => bound.partition === selection.partition)) {
      throw new ProvisionError(
        `--partition ${selection.partition} does not exist in ${topic}`,
        `it must be from 0 to ${bounds.length - 1}`,
      );
    }
  }
  return result;
}

export async function showOffsets(home: OffsetHome, selection: Selection): Promise<string> {
  return withOffsetsContext(home, async (context) =>
    formatShow(
      home,
      await activeMembers(context.admin, home.groupId),
      await readGroupOffsets(context, home, selection),
    ),
  );
}

/**
 * Plans a reset and, with `execute`, applies it: refused while the group has an active member; the
 * database's rows first (one transaction), then Kafka's committed offsets, to the same values. Kafka's
 * write refuses on its own if a member joined in between; then the database holds the reset and the
 * joining member refuses Kafka's stale copy loudly (offset-divergence.ts), so nothing is silently lost.
 */
export async function resetOffsets(
  home: OffsetHome,
  selection: Selection,
  target: ResetTarget,
  execute: boolean,
): Promise<string> {
  return withOffsetsContext(home, async (context) => {
    const members = await activeMembers(context.admin, home.groupId);
    if (execute && members.length > 0) {
      throw new ProvisionError(
        `group ${home.groupId} has ${members.length} active member${members.length === 1 ? '' : 's'}: ${members.map(describeMember).join(', ')}`,
        `stop them first (a running member goes on from its own position and would overwrite the reset)`,
      );
    }
    const moves = planReset(home, await readGroupOffsets(context, home, selection), target);
    if (!execute) {
      const note = members.length > 0 ? `\nnote: ${membersLine(members)}; --execute refuses until they stop` : '';
      return formatPlan(home, moves, false) + note;
    }
    if (home.store === 'database' && context.sql)
      await writeDatabaseOffsets(context.sql, home.schema, home.groupId, moves);
    await writeKafkaOffsets(context.admin, home.groupId, moves);
    return formatPlan(home, moves, true);
  });
}

async function writeDatabaseOffsets(
  sql: Client,
  schema: string,
  groupId: string,
  moves: readonly PlannedMove[],
): Promise<void> {
  await sql.query('BEGIN');
  try {
    // A member mid-batch holds its partition's row lock; waiting long for it would hide that it runs.
    await sql.query("SET LOCAL lock_timeout = '10s'");
    for (const move of moves) {
      await sql.query(
        `INSERT INTO ${quoted(schema)}.consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`,
        [groupId, move.topic, move.partition, move.to.toString()],
      );
    }
    await sql.query('COMMIT');
  } catch (error) {
    await sql.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function writeKafkaOffsets(admin: Admin, groupId: string, moves: readonly PlannedMove[]): Promise<void> {
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const move of moves)
    byTopic.set(move.topic, [
      ...(byTopic.get(move.topic) ?? []),
      { partition: move.partition, offset: move.to.toString() },
    ]);
  for (const [topic, partitions] of byTopic) {
    try {
      await admin.setOffsets({ groupId, topic, partitions });
    } catch (error) {
      throw new ProvisionError(
        `setting Kafka's committed offsets of group ${groupId} on ${topic} failed after the database's were set: ${(error as Error).message}`,
        'stop every member of the group and run the same command again (the database already holds the new offsets)',
      );
    }
  }
}
