// Renders the services' principals of the access catalog (libs/contracts/src/access.ts) as Strimzi KafkaUser
// manifests: Strimzi's User Operator then creates each SCRAM-SHA-512 user, a Secret of the same name holding its
// password, and exactly the ACLs the local broker gets from deploy/kafka. Producers and analytics readers are
// onboarded one by one by an operator, so only the services are rendered.
// Regenerate with `npm run deploy:render`; a unit spec fails when the committed file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  catalogFor,
  servicePrincipals,
  type AclGrant,
  type AclOperation,
  type AclPatternType,
  type AclResourceType,
  type PrincipalSpec,
} from '@tributary/contracts';
import { STRIMZI_CLUSTER } from './kafka-cluster';

export const MANIFEST_PATH = path.join(__dirname, 'kafka-users.yaml');

// Strimzi's words for the catalog's: each table is total, so a new resource type, pattern or operation in the
// catalog fails to compile here until it is given its Strimzi name.
const RESOURCE_TYPES: Record<AclResourceType, string> = {
  topic: 'topic',
  group: 'group',
  'transactional-id': 'transactionalId',
};
const PATTERN_TYPES: Record<AclPatternType, string> = { literal: 'literal', prefixed: 'prefix' };
const OPERATIONS: Record<AclOperation, string> = {
  read: 'Read',
  write: 'Write',
  describe: 'Describe',
  'describe-configs': 'DescribeConfigs',
};

function aclRule(grant: AclGrant) {
  return {
    type: 'allow',
    resource: { type: RESOURCE_TYPES[grant.resourceType], name: grant.name, patternType: PATTERN_TYPES[grant.pattern] },
    operations: grant.operations.map((operation) => OPERATIONS[operation]),
    host: '*',
  };
}

function kafkaUser(principal: PrincipalSpec) {
  return {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaUser',
    metadata: {
      // The SCRAM user name is the resource's name, and so is its Secret's: the principal the ACLs name.
      name: principal.name,
      labels: { 'strimzi.io/cluster': STRIMZI_CLUSTER, 'app.kubernetes.io/part-of': 'tributary' },
      annotations: { 'tributary.io/doc': principal.doc },
    },
    spec: {
      authentication: { type: 'scram-sha-512' },
      authorization: { type: 'simple', acls: principal.grants.map(aclRule) },
    },
  };
}

export function renderUserManifests(): string {
  const documents = servicePrincipals(catalogFor('')).map((principal) => stringify(kafkaUser(principal)));
  const header = '# Generated from libs/contracts/src/access.ts by deploy/kubernetes/kafka-users.ts: do not edit.\n';
  return `${header}---\n${documents.join('---\n')}`;
}

if (require.main === module) {
  fs.writeFileSync(MANIFEST_PATH, renderUserManifests());
  process.stdout.write(`wrote ${path.relative(process.cwd(), MANIFEST_PATH)}\n`);
}
