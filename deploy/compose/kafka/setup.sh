#!/bin/sh
# Generated from libs/contracts/src/topics.ts and access.ts by deploy/compose/kafka/setup.ts: do not edit.
# The kafka-setup service of docker-compose.yml runs it as the operator once the broker is healthy, before any
# service starts. Each step is idempotent, so it runs on every `docker compose up`: what exists is left alone.
set -eu

SECRETS=/etc/kafka/secrets
REPLICATION_FACTOR=1

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
      kafka_tool kafka-configs --alter --entity-type users --entity-name "$1" \
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
  if printf '%s\n' "$existing_topics" | grep -qxF -- "$name"; then return 0; fi
  # Each config becomes --config <config>; the loop's list was read before the first shift.
  for config in "$@"; do
    set -- "$@" --config "$config"
    shift
  done
  echo "kafka-setup: creating topic $name"
  kafka_tool kafka-topics --create --if-not-exists --topic "$name" --partitions "$partitions" \
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
  if ! output=$(kafka_tool kafka-acls --add --allow-principal "User:$principal" --resource-pattern-type "$pattern" \
    "$@" 2>&1); then
    printf '%s\n' "$output" >&2
    return 1
  fi
}

scram gateway
scram attribution
scram ledger-projector
scram payouts
scram ledger-api

topic tributary.datanets 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  message.timestamp.type=LogAppendTime min.insync.replicas=1
topic tributary.contributions 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  message.timestamp.type=LogAppendTime min.insync.replicas=1
topic tributary.models 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  message.timestamp.type=LogAppendTime min.insync.replicas=1
topic tributary.inferences 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  message.timestamp.type=LogAppendTime min.insync.replicas=1
topic tributary.attributions 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  min.insync.replicas=1
topic tributary.payouts 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  min.insync.replicas=1
topic tributary.funding 6 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1048576 \
  min.insync.replicas=1
topic tributary.schemas 1 cleanup.policy=compact retention.ms=-1 min.compaction.lag.ms=0 max.message.bytes=1048576 \
  min.insync.replicas=1
topic tributary.attribution.dlq 1 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1114112 \
  min.insync.replicas=1
topic tributary.attribution.tables.dlq 1 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 \
  max.message.bytes=1114112 min.insync.replicas=1
topic tributary.ledger-projector.dlq 1 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 \
  max.message.bytes=1114112 min.insync.replicas=1
topic tributary.payouts.dlq 1 cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1114112 \
  min.insync.replicas=1

acl gateway literal 'Write Describe' topic tributary.datanets tributary.contributions tributary.models \
  tributary.inferences tributary.schemas
acl gateway prefixed 'Write Describe' transactional-id tributary.gateway.
acl attribution literal 'Read Describe' topic tributary.datanets tributary.contributions tributary.models \
  tributary.inferences
acl attribution literal DescribeConfigs topic tributary.datanets tributary.contributions tributary.models \
  tributary.inferences
acl attribution literal 'Write Describe' topic tributary.attributions tributary.attribution.dlq \
  tributary.attribution.tables.dlq
acl attribution prefixed 'Read Describe' group tributary.attribution
acl attribution prefixed 'Write Describe' transactional-id tributary.attribution
acl ledger-projector literal 'Read Describe' topic tributary.attributions tributary.payouts tributary.funding
acl ledger-projector literal 'Read Write Describe' topic tributary.ledger-projector.dlq
acl ledger-projector prefixed 'Read Describe' group tributary.ledger-projector
acl payouts literal 'Write Describe' topic tributary.payouts tributary.funding
acl ledger-api literal 'Read Describe' topic tributary.attributions tributary.attribution.dlq \
  tributary.attribution.tables.dlq tributary.ledger-projector.dlq tributary.payouts.dlq
acl ledger-api literal Describe topic tributary.inferences tributary.payouts
acl ledger-api literal Describe group tributary.attribution
acl ledger-api prefixed Read group tributary.ledger-api.reader.

echo "kafka-setup: topics and ACLs ready"
