// Proves the access catalog grants least privilege, by reading every grant of every principal for a
// topic prefix: only attribution writes decisions, only payouts writes payout events, readers write
// nothing, every grant names the catalog's own resources, and producer grants that would carry other
// event types along (or internal ones) are refused with the rule.
import {
  AccessRuleError,
  analyticsPrincipal,
  catalogFor,
  eventTopics,
  producerPrincipal,
  SERVICE_PRINCIPALS,
  servicePrincipals,
  topicCatalog,
  type PrincipalSpec,
} from './index';

const catalog = catalogFor('env.');
const writers = (principals: PrincipalSpec[], topic: string) =>
  principals
    .filter((principal) =>
      principal.grants.some(
        (grant) => grant.resourceType === 'topic' && grant.name === topic && grant.operations.includes('write'),
      ),
    )
    .map((p) => p.name);

describe('the access catalog', () => {
  const services = servicePrincipals(catalog);
  const everyone = [
    ...services,
    analyticsPrincipal('bi', catalog),
    producerPrincipal('acme', ['InferenceCompleted'], catalog),
  ];

  it('lets only attribution write decisions and only payouts write payout events', () => {
    expect(writers(everyone, catalog.topics.attributions.name)).toEqual(['attribution']);
    expect(writers(everyone, catalog.topics.payouts.name)).toEqual(['payouts']);
  });

  it("lets only payouts write the treasury's funding events, and the ledger projector read them", () => {
    expect(writers(everyone, catalog.topics.funding.name)).toEqual(['payouts']);
    const readers = everyone
      .filter((principal) => principal.role === 'service')
      .filter((principal) =>
        principal.grants.some(
          (grant) =>
            grant.resourceType === 'topic' &&
            grant.name === catalog.topics.funding.name &&
            grant.operations.includes('read'),
        ),
      )
      .map((principal) => principal.name);
    expect(readers).toEqual(['ledger-projector']);
    expect(eventTopics(catalog)).toContain('env.tributary.funding');
  });

  it('gives every service a principal, and the readers no write anywhere', () => {
    expect(services.map((principal) => principal.name)).toEqual([...SERVICE_PRINCIPALS]);
    for (const reader of [services.find((p) => p.name === 'ledger-api')!, analyticsPrincipal('bi', catalog)]) {
      expect([reader.name, reader.grants.filter((grant) => grant.operations.includes('write'))]).toEqual([
        reader.name,
        [],
      ]);
    }
  });

  it('names only topics of the catalog, under the environment prefix', () => {
    const names = new Set(topicCatalog(catalog).map((spec) => spec.name));
    for (const principal of everyone) {
      for (const grant of principal.grants) {
        expect(grant.name.startsWith('env.')).toBe(true);
        if (grant.resourceType === 'topic')
          expect([principal.name, names.has(grant.name)]).toEqual([principal.name, true]);
      }
    }
  });

  it('lets an analytics reader read every event topic and join groups under analytics.<name>. only', () => {
    const bi = analyticsPrincipal('bi', catalog);
    const read = bi.grants
      .filter((grant) => grant.resourceType === 'topic' && grant.operations.includes('read'))
      .map((grant) => grant.name);
    expect(read).toEqual(expect.arrayContaining(eventTopics(catalog)));
    expect(bi.grants.filter((grant) => grant.resourceType === 'group')).toEqual([
      { resourceType: 'group', pattern: 'prefixed', name: 'env.analytics.bi.', operations: ['read'] },
    ]);
  });

  describe('a direct producer', () => {
    it('gets the whole topics of the event types it is granted, and its own transactional ids', () => {
      const producer = producerPrincipal(
        'acme',
        ['ContributionSubmitted', 'ContributionValidated', 'ContributionRevoked'],
        catalog,
      );
      expect(producer.grants).toEqual([
        {
          resourceType: 'topic',
          pattern: 'literal',
          name: 'env.tributary.contributions',
          operations: ['write', 'describe'],
        },
        {
          resourceType: 'transactional-id',
          pattern: 'prefixed',
          name: 'env.producer.acme.',
          operations: ['write', 'describe'],
        },
      ]);
    });

    it.each([
      [['ContributionSubmitted'], 'tributary.contributions also carries ContributionRevoked, ContributionValidated'],
      [['InferenceAttributed'], 'InferenceAttributed is published by the attribution service only'],
      [['PayoutRequested', 'InferenceCompleted'], 'PayoutRequested is published by the payouts service only'],
      [['FundsDeposited'], 'FundsDeposited is published by the treasury service only'],
      [['FundsReversed', 'InferenceCompleted'], 'FundsReversed is published by the treasury service only'],
      [['NoSuchEvent'], 'NoSuchEvent: not an event type'],
      [[], 'a producer needs at least one event type'],
    ])('is refused %j with the rule', (eventTypes, rule) => {
      expect(() => producerPrincipal('acme', eventTypes, catalog)).toThrow(AccessRuleError);
      expect(() => producerPrincipal('acme', eventTypes, catalog)).toThrow(rule);
    });
  });
});
