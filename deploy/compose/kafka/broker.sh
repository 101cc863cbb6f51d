#!/bin/sh
# The kafka service of docker-compose.yml: starts the broker from server.properties beside this file. The
# apache/kafka image's own start-up formats storage from environment variables and cannot add SCRAM credentials,
# so this formats it once itself, with --add-scram for the operator and every service: the first client can then
# authenticate before any Admin call is possible, as with deploy/kafka's local broker.
set -eu
umask 077

SECRETS=/etc/kafka/secrets
DATA=/var/lib/kafka/data
# Written at every start: it holds the keystore's password, which stays out of the repository.
CONFIG=/tmp/server.properties
: "${CLUSTER_ID:?the cluster id (docker-compose.yml sets it)}"
: "${KAFKA_OPERATOR_PRINCIPAL:?the operator principal (docker-compose.yml sets it)}"
: "${KAFKA_SERVICE_PRINCIPALS:?the service principals (docker-compose.yml sets them)}"

{
  cat "$(dirname "$0")/server.properties"
  printf 'ssl.keystore.password=%s\n' "$(cat "$SECRETS/keystore.password")"
} > "$CONFIG"

# Formatting twice would fail, and would throw away the cluster id the existing data belongs to.
if [ ! -f "$DATA/meta.properties" ]; then
  set --
  for principal in $KAFKA_OPERATOR_PRINCIPAL $KAFKA_SERVICE_PRINCIPALS; do
    set -- "$@" --add-scram "SCRAM-SHA-512=[name=$principal,password=$(cat "$SECRETS/$principal.password")]"
  done
  echo "kafka: formatting $DATA (cluster id $CLUSTER_ID) with the SCRAM credentials of $KAFKA_OPERATOR_PRINCIPAL" \
    "$KAFKA_SERVICE_PRINCIPALS"
  /opt/kafka/bin/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config "$CONFIG" "$@"
fi

exec /opt/kafka/bin/kafka-server-start.sh "$CONFIG"
