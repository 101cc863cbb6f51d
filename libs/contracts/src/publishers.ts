// Who publishes each event type. Producers publish the facts of the economy (datanets, contributions,
// models, inferences), over HTTP through the gateway or straight to Kafka. Decisions and payouts are
// written by one Tributary service alone, because they move money in the ledger: a decision credits
// accounts with an inference's fee and a payout takes money out, so nobody else may write them (the
// "Trust" section of the design). The gateway, its API key scopes, its OpenAPI document and the
// simulator derive what they accept from this table, so none of them can offer a type another refuses.
import { EVENT_TYPES, type EventType } from './schemas/generated/event-types';

/** The one Tributary service that publishes an internal event type, named as its folder in services/. */
export type PublishingService = 'attribution' | 'payouts';

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
