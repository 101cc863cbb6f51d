import { catalogFor, topicPrefix } from './topics';

/**
 * Where each consumer group keeps the offsets that decide what it reads next, in one place: the
 * operator's `offsets` commands (deploy/kafka) read it, and a unit test holds the schemas equal to the
 * ones the services migrate (services/<name>/src/database/data-source-options.ts).
 *
 * - `database`: the authoritative offsets live in the `consumer_offsets` table of the service's own
 *   PostgreSQL schema, written in the same transaction as the effects; Kafka's committed offsets are a
 *   copy for lag tools. Moving them takes both copies (`npm run kafka -- offsets reset`).
 * - `kafka`: the offsets live in Kafka only (committed with sendOffsets inside the transaction that
 *   produces the group's output), so Kafka's own `kafka-consumer-groups --reset-offsets` works as is.
 */
export type OffsetHome =
  | {
      readonly groupId: string;
      readonly service: string;
      readonly store: 'database';
      readonly schema: string;
      readonly topics: readonly string[];
    }
  | { readonly groupId: string; readonly service: string; readonly store: 'kafka'; readonly topics: readonly string[] };

/** The PostgreSQL schemas that hold a `consumer_offsets` table, by the service that owns each. */
export const OFFSET_SCHEMAS = { 'ledger-projector': 'ledger', attribution: 'attribution' } as const;

/**
 * Every consumer group of one environment and where its offsets live. The group names follow the
 * services' own configuration: the catalog's names for TRIBUTARY_TOPIC_PREFIX, or the ones
 * LEDGER_PROJECTOR_GROUP_ID and ATTRIBUTION_GROUP_ID set (the table consumer is `<attribution group>.tables`).
 */
export function offsetHomes(env: NodeJS.ProcessEnv = process.env): OffsetHome[] {
  const { topics, groups } = catalogFor(topicPrefix(env));
  const ledgerProjector = env.LEDGER_PROJECTOR_GROUP_ID || groups.ledgerProjector;
  const attribution = env.ATTRIBUTION_GROUP_ID || groups.attribution;
  return [
    {
      groupId: ledgerProjector,
      service: 'ledger-projector',
      store: 'database',
      schema: OFFSET_SCHEMAS['ledger-projector'],
      topics: [topics.attributions.name, topics.payouts.name, topics.funding.name],
    },
    {
      groupId: `${attribution}.tables`,
      service: 'attribution',
      store: 'database',
      schema: OFFSET_SCHEMAS.attribution,
      topics: [topics.datanets.name, topics.contributions.name, topics.models.name],
    },
    { groupId: attribution, service: 'attribution', store: 'kafka', topics: [topics.inferences.name] },
  ];
}

export function offsetHomeOf(groupId: string, env: NodeJS.ProcessEnv = process.env): OffsetHome | undefined {
  return offsetHomes(env).find((home) => home.groupId === groupId);
}
