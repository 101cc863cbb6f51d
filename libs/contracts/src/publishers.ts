// Who publishes each event type. Producers publish the facts of the economy (datanets, contributions,
// models, inferences), over HTTP through the gateway or straight to Kafka. Decisions, payouts and
// funding are written by one Tributary publisher alone, because they move money in the ledger: a
// decision credits accounts with an inference's fee, a payout takes money out, and a deposit decides how
// much of what a producer's inferences earned is backed by money it actually paid in, so nobody else may
// write them (the "Trust" section of the design). A producer able to publish its own FundsDeposited
// could make unbacked credits payable. The gateway, its API key scopes, its OpenAPI document and the
// simulator derive what they accept from this table, so none of them can offer a type another refuses.
import { EVENT_TYPES, type EventType } from './schemas/generated/event-types';

/**
 * The one Tributary publisher of an internal event type: a service, named as its folder in services/, or
 * 'treasury', the operator's treasury side, whose commands (deposit, chargeback) the payouts service
 * hosts behind its operator token and whose Kafka writes go through the payouts principal.
 */
export type PublishingService = 'attribution' | 'payouts' | 'treasury';

/** Any producer with a key (or Kafka credentials) granting the type, or one service alone. */
export type EventPublisher = 'producers' | PublishingService;

/**
 * Every event type and who publishes it. The mapped type makes a new event type fail to compile until
 * someone decides here who may publish it, so a new internal type cannot slip through the gateway.
 */
export const EVENT_PUBLISHERS = {
  DatanetCreated: 'producers',
  DatanetUpdated: 'producers',
  ContributionRevoked: 'producers',
  ContributionSubmitted: 'producers',
  ContributionValidated: 'producers',
  ModelRegistered: 'producers',
  ModelRetired: 'producers',
  InferenceCompleted: 'producers',
  InferenceAttributed: 'attribution',
  PayoutFailed: 'payouts',
  PayoutRequested: 'payouts',
  PayoutSettled: 'payouts',
  FundsDeposited: 'treasury',
  FundsReversed: 'treasury',
} as const satisfies { readonly [T in EventType]: EventPublisher };

/** The event types one service alone publishes: never accepted from a producer. */
export type InternalEventType = {
  [T in EventType]: (typeof EVENT_PUBLISHERS)[T] extends PublishingService ? T : never;
}[EventType];

/** The event types producers publish. */
export type ProducerEventType = Exclude<EventType, InternalEventType>;

export function isProducerEventType(eventType: EventType): eventType is ProducerEventType {
  return EVENT_PUBLISHERS[eventType] === 'producers';
}

export function isInternalEventType(eventType: EventType): eventType is InternalEventType {
  return !isProducerEventType(eventType);
}

/** The service that alone publishes an internal event type. */
export function publishingServiceOf(eventType: InternalEventType): PublishingService {
  return EVENT_PUBLISHERS[eventType];
}

/** The rule that keeps an internal event type from producers, in the words every refusal of it uses. */
export function internalEventTypeRule(eventType: InternalEventType): string {
  return `${eventType} is published by the ${publishingServiceOf(eventType)} service only`;
}

/** The event types producers publish, in the order of EVENT_TYPES. */
export const PRODUCER_EVENT_TYPES: readonly ProducerEventType[] = EVENT_TYPES.filter(isProducerEventType);

/** The internal event types, in the order of EVENT_TYPES. */
export const INTERNAL_EVENT_TYPES: readonly InternalEventType[] = EVENT_TYPES.filter(isInternalEventType);
