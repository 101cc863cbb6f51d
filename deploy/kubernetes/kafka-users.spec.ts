// Proves the Strimzi KafkaUser manifests under deploy/kubernetes grant what the access catalog grants and nothing
// more, by rendering the catalog again and comparing with the committed file, by validating each KafkaUser against
// Strimzi's KafkaUser CRD from the shared schemas folder, and by reading the least-privilege rules off the result.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { SERVICE_PRINCIPALS, catalogFor, servicePrincipals } from '@tributary/contracts';
import { MANIFEST_PATH, renderUserManifests } from './kafka-users';
import { KUBERNETES_NAME, strimziManifestCheck } from './strimzi-crd';

interface AclRule {
  type: string;
  resource: { type: string; name: string; patternType: string };
  operations: string[];
  host: string;
}
interface KafkaUser {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { authentication: { type: string }; authorization: { type: string; acls: AclRule[] } };
}

const users = parseAllDocuments(renderUserManifests())
  .map((document) => document.toJSON() as KafkaUser | null)
  .filter((user): user is KafkaUser => user !== null);

/** The users that may do `operation` on the literal topic `topic`, or on a prefix of it. */
function holders(operation: string, topic: string): string[] {
  const grants = (rule: AclRule) =>
    rule.type === 'allow' &&
    rule.resource.type === 'topic' &&
    (rule.resource.patternType === 'literal' ? rule.resource.name === topic : topic.startsWith(rule.resource.name)) &&
    rule.operations.includes(operation);
  return users.filter((user) => user.spec.authorization.acls.some(grants)).map((user) => user.metadata.name);
}

describe('the Strimzi KafkaUser manifests', () => {
  it('match the access catalog (run npm run deploy:render when this fails)', () => {
    expect(fs.readFileSync(MANIFEST_PATH, 'utf8')).toBe(renderUserManifests());
  });

  it('are one SCRAM-SHA-512 user per service principal of the tributary cluster, named as the principal', () => {
    expect(users.map((user) => user.metadata.name)).toEqual([...SERVICE_PRINCIPALS]);
    for (const user of users) {
      expect(user.spec.authentication).toEqual({ type: 'scram-sha-512' });
      expect(user.metadata.labels['strimzi.io/cluster']).toBe('tributary');
      expect(user.metadata.annotations['tributary.io/doc']).toBeTruthy();
    }
  });

  it('hold one allow rule from any host per catalog grant, in Strimzi words', () => {
    for (const principal of servicePrincipals(catalogFor(''))) {
      const user = users.find((candidate) => candidate.metadata.name === principal.name);
      expect(user?.spec.authorization.type).toBe('simple');
      expect(user?.spec.authorization.acls).toHaveLength(principal.grants.length);
    }
    const gateway = users.find((user) => user.metadata.name === 'gateway');
    expect(gateway?.spec.authorization.acls).toContainEqual({
      type: 'allow',
      resource: { type: 'transactionalId', name: 'tributary.gateway.', patternType: 'prefix' },
      operations: ['Write', 'Describe'],
      host: '*',
    });
  });

  describe('against the KafkaUser CRD (../shared/schemas/strimzi/044-Crd-kafkauser.yaml)', () => {
    const check = strimziManifestCheck('044-Crd-kafkauser.yaml');

    it.each(users.map((user) => [user.metadata.name, user]))('%s is a valid KafkaUser', (_name, user) => {
      expect(check(user)).toEqual([]);
      expect(user.metadata.name).toMatch(KUBERNETES_NAME);
    });

    it("rejects v1beta2's single `operation` and a misspelt pattern type (the schema is really applied)", () => {
      const user = structuredClone(users[0]) as KafkaUser & { spec: { authorization: { acls: unknown[] } } };
      const [rule] = user.spec.authorization.acls as AclRule[];
      const withRule = (changed: unknown) => ({
        ...user,
        spec: { ...user.spec, authorization: { ...user.spec.authorization, acls: [changed] } },
      });
      expect(check(withRule({ resource: rule?.resource, operation: 'Write' })).join('\n')).toContain('operation');
      const misspelt = withRule({ ...rule, resource: { ...rule?.resource, patternType: 'prefixed' } });
      expect(check(misspelt).join('\n')).toContain('patternType');
    });
  });

  describe('least privilege', () => {
    it('lets only attribution write decisions to tributary.attributions', () => {
      expect(holders('Write', 'tributary.attributions')).toEqual(['attribution']);
    });

    it('lets only payouts write to tributary.payouts', () => {
      expect(holders('Write', 'tributary.payouts')).toEqual(['payouts']);
    });

    it('lets only payouts write to tributary.funding, for the treasury', () => {
      expect(holders('Write', 'tributary.funding')).toEqual(['payouts']);
    });

    it('gives ledger-api no Write on anything', () => {
      const ledgerApi = users.find((user) => user.metadata.name === 'ledger-api');
      expect(ledgerApi?.spec.authorization.acls.length).toBeGreaterThan(0);
      expect(ledgerApi?.spec.authorization.acls.flatMap((rule) => rule.operations)).not.toContain('Write');
    });

    it('grants nothing on the cluster resource and no operation beyond Read, Write, Describe and DescribeConfigs', () => {
      const rules = users.flatMap((user) => user.spec.authorization.acls);
      expect(new Set(rules.map((rule) => rule.resource.type))).toEqual(new Set(['topic', 'group', 'transactionalId']));
      expect(new Set(rules.flatMap((rule) => rule.operations))).toEqual(
        new Set(['Read', 'Write', 'Describe', 'DescribeConfigs']),
      );
    });

    it('lets only attribution describe topic configs, and only of the four topics its join rule compares', () => {
      const describing = users.flatMap((user) =>
        user.spec.authorization.acls
          .filter((rule) => rule.operations.includes('DescribeConfigs'))
          .map((rule) => `${user.metadata.name} ${rule.resource.patternType} ${rule.resource.name}`),
      );
      expect(describing.sort()).toEqual(
        ['contributions', 'datanets', 'inferences', 'models'].map((topic) => `attribution literal tributary.${topic}`),
      );
    });
  });
});
