// Renders setup.sh: what the kafka-setup service of docker-compose.yml does as the operator once the broker is
// healthy and before any service starts. It creates the topic catalog (libs/contracts/src/topics.ts), since no
// service may create a topic, and the services' ACLs from the access catalog (libs/contracts/src/access.ts), with
// Kafka's own tools from the broker's image, so the compose broker holds what deploy/kafka's local broker and the
// Strimzi KafkaUser manifests hold.
// Regenerate with `npm run deploy:render`; compose.spec.ts fails when the committed file is stale.
import fs from 'node:fs';
import path from 'node:path';
import {
  catalogFor,
  servicePrincipals,
  topicCatalog,
  type AclOperation,
  type AclResourceType,
  type PrincipalSpec,
} from '@tributary/contracts';
import { topicConfig } from '@tributary/messaging';

export const SETUP_SCRIPT_PATH = path.join(__dirname, 'setup.sh');
/** The compose broker is one node: every topic has one replica (KAFKA_REPLICATION_FACTOR of the services). */
export const COMPOSE_REPLICATION_FACTOR = 1;
const LINE_LENGTH_MAX = 120;

// kafka-acls.sh's words for the catalog's; each table is total, so a new kind in the catalog fails to compile here.
const RESOURCE_OPTIONS: Record<AclResourceType, string> = {
  topic: 'topic',
  group: 'group',
  'transactional-id': 'transactional-id',
};
const OPERATIONS: Record<AclOperation, string> = {
  read: 'Read',
  write: 'Write',
  describe: 'Describe',
  'describe-configs': 'DescribeConfigs',
};

/** A word as the shell reads it: bare when it holds nothing the shell would interpret, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._:=/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** One call of a helper of the script, continued over lines when it would pass the line length. */
function call(words: readonly string[]): string {
  const [first = '', ...rest] = words.map(shellWord);
  if ([first, ...rest].join(' ').length <= LINE_LENGTH_MAX) return [first, ...rest].join(' ');
  const lines = [first];
  for (const word of rest) {
    const last = lines[lines.length - 1]!;
    // Room for the space, the word and the trailing backslash of a line that is continued.
    if (last.length + word.length + 3 > LINE_LENGTH_MAX) lines.push(`  ${word}`);
    else lines[lines.length - 1] = `${last} ${word}`;
  }
  return lines.join(' \\\n');
}

function topicCalls(): string[] {
  return topicCatalog(catalogFor('')).map((spec) => {
    const config = topicConfig(spec, COMPOSE_REPLICATION_FACTOR);
    const entries = (config.configEntries ?? []).map((entry) => `${entry.name}=${entry.value}`);
    return call(['topic', spec.name, String(spec.partitions), ...entries]);
  });
}

/**
 * A principal's grants as few kafka-acls.sh calls as keep each call's operations valid for its resource type:
 * grants that share a resource type, a pattern type and the same operations go in one call.
 */
function aclCalls(principal: PrincipalSpec): string[] {
  const calls = new Map<string, { head: string[]; names: string[] }>();
  for (const grant of principal.grants) {
    const operations = grant.operations.map((operation) => OPERATIONS[operation]).join(' ');
    const key = `${grant.resourceType}|${grant.pattern}|${operations}`;
    const existing = calls.get(key);
    if (existing) existing.names.push(grant.name);
    else {
      const head = ['acl', principal.name, grant.pattern, operations, RESOURCE_OPTIONS[grant.resourceType]];
      calls.set(key, { head, names: [grant.name] });
    }
  }
  return [...calls.values()].map(({ head, names }) => call([...head, ...names]));
}

const PREAMBLE = `#!/bin/sh
# Generated from libs/contracts/src/topics.ts and access.ts by deploy/compose/kafka/setup.ts: do not edit.
# The kafka-setup service of docker-compose.yml runs it as the operator once the broker is healthy, before any
# service starts. Each step is idempotent, so it runs on every \`docker compose up\`: what exists is left alone.
set -eu

SECRETS=/etc/kafka/secrets
REPLICATION_FACTOR=${COMPOSE_REPLICATION_FACTOR}

# kafka_tool <tool> <argument>...: one of Kafka's tools, as the operator, on the containers' listener.
kafka_tool() {
  tool=$1
  shift
  "/opt/kafka/bin/$tool.sh" --bootstrap-server kafka:19092 --command-config "$SECRETS/operator.properties" "$@"
}

# scram <principal>: a format creates the SCRAM credentials of the principals docker-compose.yml names; one added
# to it later (a new service) gets its credential here, from the password kafka-init made for it.
scram_users=$(kafka_tool kafka-configs --describe --entity-type users)
scram() {
  case "$scram_users" in
    *"user-principal '$1'"*) ;;
    *)
      echo "kafka-setup: creating the SCRAM credential of $1"
      kafka_tool kafka-configs --alter --entity-type users --entity-name "$1" \\
        --add-config "SCRAM-SHA-512=[password=$(cat "$SECRETS/$1.password")]"
      ;;
  esac
}

# topic <name> <partitions> <config>...: created with the catalog's configs unless it exists.
existing_topics=$(kafka_tool kafka-topics --list)
topic() {
  name=$1
  partitions=$2
  shift 2
  if printf '%s\\n' "$existing_topics" | grep -qxF -- "$name"; then return 0; fi
  # Each config becomes --config <config>; the loop's list was read before the first shift.
  for config in "$@"; do
    set -- "$@" --config "$config"
    shift
  done
  echo "kafka-setup: creating topic $name"
  kafka_tool kafka-topics --create --if-not-exists --topic "$name" --partitions "$partitions" \\
    --replication-factor "$REPLICATION_FACTOR" "$@"
}

# acl <principal> <literal|prefixed> <operations> <resource type> <name>...: an ACL that exists already is kept.
acl() {
  principal=$1
  pattern=$2
  operations=$3
  resource=$4
  shift 4
  echo "kafka-setup: allowing User:$principal $operations on $resource ($pattern) $*"
  # Each name becomes --<resource type> <name>; the loop's list was read before the first shift.
  for name in "$@"; do
    set -- "$@" "--$resource" "$name"
    shift
  done
  for operation in $operations; do
    set -- --operation "$operation" "$@"
  done
  # kafka-acls lists every ACL of the resource after adding; that is shown only with an error, which it also
  # prints to standard output.
  if ! output=$(kafka_tool kafka-acls --add --allow-principal "User:$principal" --resource-pattern-type "$pattern" \\
    "$@" 2>&1); then
    printf '%s\\n' "$output" >&2
    return 1
  fi
}
`;

export function renderSetupScript(): string {
  const principals = servicePrincipals(catalogFor(''));
  return [
    PREAMBLE,
    ...principals.map((principal) => call(['scram', principal.name])),
    '',
    ...topicCalls(),
    '',
    ...principals.flatMap(aclCalls),
    '',
    'echo "kafka-setup: topics and ACLs ready"',
    '',
  ].join('\n');
}

if (require.main === module) {
  fs.writeFileSync(SETUP_SCRIPT_PATH, renderSetupScript());
  process.stdout.write(`wrote ${path.relative(process.cwd(), SETUP_SCRIPT_PATH)}\n`);
}
