#!/bin/sh
# The kafka-init service of docker-compose.yml: makes, once, the TLS material and the SCRAM passwords of the
# compose broker, the way deploy/kafka/src/tls.ts and credentials.ts make the local broker's. It runs in the
# apache/kafka image (its JRE has keytool) as root, before the broker, on every `docker compose up`; whatever
# exists is kept, so it only fills in what is missing.
#
#   kafka-secrets (/etc/kafka/secrets), mounted by kafka-init, kafka and kafka-setup only:
#     ca.crt, broker.p12 + keystore.password, <principal>.password for the operator and each service,
#     operator.properties (the operator's --command-config for Kafka's tools)
#   kafka-client-secrets (/etc/tributary/kafka), mounted read-only by the Tributary services:
#     ca.crt and each service's <principal>.password
set -eu
umask 077

SECRETS=/etc/kafka/secrets
CLIENT_SECRETS=/etc/tributary/kafka
# The broker's data volume: mounted here to notice storage formatted with credentials that are gone.
DATA=/var/lib/kafka/data
# The user the apache/kafka image runs the broker as: it must read the broker's secrets.
BROKER_USER=appuser
BROKER_CN=tributary-broker
VALIDITY_DAYS=3650
: "${KAFKA_OPERATOR_PRINCIPAL:?the operator principal (docker-compose.yml sets it)}"
: "${KAFKA_SERVICE_PRINCIPALS:?the service principals (docker-compose.yml sets them)}"

# 24 random bytes as hex: nothing in it needs escaping in a JAAS line or in kafka-storage's --add-scram.
new_secret() {
  od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

if [ ! -s "$SECRETS/broker.p12" ] && [ -f "$DATA/meta.properties" ]; then
  echo "kafka-init: the broker's storage is formatted but its secrets are gone, so nobody can authenticate to it:" >&2
  echo "kafka-init: drop the volumes together (docker compose down -v) and start again" >&2
  exit 1
fi

# The CA signs the broker's certificate and is then thrown away: no certificate the mutual-TLS listeners
# (controller, inter-broker) would accept can ever be made again, so they stay the broker's own. The keystore is
# moved into place last, as the sign that the TLS material is complete.
if [ ! -s "$SECRETS/broker.p12" ]; then
  echo "kafka-init: making a CA and the broker's certificate (keytool)"
  work="$SECRETS/.tls-work"
  rm -rf "$work"
  mkdir -p "$work"
  TRIBUTARY_CA_PASSWORD=$(new_secret)
  TRIBUTARY_KEYSTORE_PASSWORD=$(new_secret)
  export TRIBUTARY_CA_PASSWORD TRIBUTARY_KEYSTORE_PASSWORD
  ca="-keystore $work/ca.p12 -storetype PKCS12 -storepass:env TRIBUTARY_CA_PASSWORD"
  broker="-keystore $work/broker.p12 -storetype PKCS12 -storepass:env TRIBUTARY_KEYSTORE_PASSWORD"
  # Word splitting of $ca and $broker is wanted: the paths hold no spaces.
  keytool -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname CN=tributary-compose-ca -ext bc:c \
    -validity "$VALIDITY_DAYS" $ca
  keytool -exportcert -rfc -alias ca -file "$work/ca.crt" $ca
  keytool -genkeypair -alias broker -keyalg EC -groupname secp256r1 -dname "CN=$BROKER_CN" \
    -validity "$VALIDITY_DAYS" $broker
  keytool -certreq -alias broker -file "$work/broker.csr" $broker
  # The names every client dials: kafka (containers), localhost and 127.0.0.1 (the host).
  keytool -gencert -alias ca -infile "$work/broker.csr" -outfile "$work/broker.crt" -rfc -validity "$VALIDITY_DAYS" \
    -ext SAN=dns:kafka,dns:localhost,ip:127.0.0.1 -ext EKU=serverAuth,clientAuth $ca
  keytool -importcert -noprompt -alias ca -file "$work/ca.crt" $broker
  keytool -importcert -alias broker -file "$work/broker.crt" $broker
  printf '%s\n' "$TRIBUTARY_KEYSTORE_PASSWORD" > "$SECRETS/keystore.password"
  mv "$work/ca.crt" "$SECRETS/ca.crt"
  mv "$work/broker.p12" "$SECRETS/broker.p12"
  rm -rf "$work"
fi

for principal in $KAFKA_OPERATOR_PRINCIPAL $KAFKA_SERVICE_PRINCIPALS; do
  if [ ! -s "$SECRETS/$principal.password" ]; then
    echo "kafka-init: making the password of $principal"
    new_secret > "$SECRETS/$principal.password"
  fi
done

# The operator's client config, as deploy/kafka's renderClientProperties writes the local broker's.
jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
jaas="$jaas username=\"$KAFKA_OPERATOR_PRINCIPAL\" password=\"$(cat "$SECRETS/$KAFKA_OPERATOR_PRINCIPAL.password")\";"
cat > "$SECRETS/operator.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$jaas
ssl.truststore.type=PEM
ssl.truststore.location=$SECRETS/ca.crt
EOF
chown -R "$BROKER_USER:$BROKER_USER" "$SECRETS"
chmod 700 "$SECRETS"
# This job is the first to mount the data volume, so its owner is set here rather than left to how the engine
# populates a new volume; the broker formats and writes it as the image's user.
chown "$BROKER_USER:$BROKER_USER" "$DATA"

# The services run as another image's user, so their files are readable by all; only the services' containers
# mount this volume, and never the operator's password or the broker's key.
mkdir -p "$CLIENT_SECRETS"
cp "$SECRETS/ca.crt" "$CLIENT_SECRETS/ca.crt"
for principal in $KAFKA_SERVICE_PRINCIPALS; do
  cp "$SECRETS/$principal.password" "$CLIENT_SECRETS/$principal.password"
done
chmod 755 "$CLIENT_SECRETS"
chmod 444 "$CLIENT_SECRETS"/*
echo "kafka-init: secrets ready"
