// Proves the publishers table keeps money-moving events away from producers: the treasury's funding
// events (FundsDeposited, FundsReversed) are internal, refused with a rule naming the treasury, and the
// producer types stay exactly the facts of the economy.
import {
  EVENT_PUBLISHERS,
  EVENT_TYPES,
  INTERNAL_EVENT_TYPES,
  internalEventTypeRule,
  isInternalEventType,
  isProducerEventType,
  PRODUCER_EVENT_TYPES,
  publishingServiceOf,
  topicOf,
} from './index';

describe('the publishers table', () => {
  it('names the treasury as the only publisher of the funding events, on tributary.funding', () => {
    for (const type of ['FundsDeposited', 'FundsReversed'] as const) {
      expect(EVENT_PUBLISHERS[type]).toBe('treasury');
      expect(isInternalEventType(type)).toBe(true);
      expect(isProducerEventType(type)).toBe(false);
      expect(publishingServiceOf(type)).toBe('treasury');
      expect(internalEventTypeRule(type)).toBe(`${type} is published by the treasury service only`);
      expect(topicOf(type)).toBe('tributary.funding');
    }
  });

  it('keeps producers to the facts of the economy; everything that moves money is internal', () => {
    expect([...PRODUCER_EVENT_TYPES].sort()).toEqual([
      'ContributionRevoked',
      'ContributionSubmitted',
      'ContributionValidated',
      'DatanetCreated',
      'DatanetUpdated',
      'InferenceCompleted',
      'ModelRegistered',
      'ModelRetired',
    ]);
    expect([...INTERNAL_EVENT_TYPES].sort()).toEqual([
      'FundsDeposited',
      'FundsReversed',
      'InferenceAttributed',
      'PayoutFailed',
      'PayoutRequested',
      'PayoutSettled',
    ]);
    expect([...PRODUCER_EVENT_TYPES, ...INTERNAL_EVENT_TYPES].sort()).toEqual([...EVENT_TYPES].sort());
  });
});
