#!/usr/bin/env node
// Reading Tributary's event topics from outside this repository with the schema registry: only kafkajs
// and @kafkajs/confluent-schema-registry, no code of ours. Each record's value is Confluent-framed (a zero
// byte, the writer schema's 4-byte registry id, the Avro body); the library looks the id up in the
// registry's Confluent-compatible API once and decodes the body with that schema.
// services/gateway/test/node-registry-reader.int-spec.ts runs this file against the real stack.
//
// It authenticates as an analytics principal (SASL/SCRAM-SHA-512 over TLS); the operator issues one with
// `npm run kafka -- principals add-analytics <name>`, and its consumer groups start with `analytics.<name>.`.
//
//   BROKERS=127.0.0.1:9092 KAFKA_USERNAME=bi KAFKA_PASSWORD_FILE=bi.password KAFKA_CA_FILE=.cache/kafka-data/dev/tls/ca.crt \
//   SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 TOPICS=tributary.inferences,tributary.attributions \
//   node docs/examples/read-with-registry.js
//
// Prints one JSON line per record: {topic, key, type, event}, amounts (Avro longs) as decimal strings.
'use strict';
const fs = require('node:fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
// The Avro library the registry client decodes with (it comes with it); taken from the client's own
// dependencies so that the long type below is one of its types.
const avro = require(require.resolve('avsc', { paths: [require.resolve('@kafkajs/confluent-schema-registry')] }));

const brokers = (process.env.BROKERS || '127.0.0.1:9092').split(',');
const topics = (process.env.TOPICS || 'tributary.inferences').split(',');
const registryUrl = process.env.SCHEMA_REGISTRY_URL || 'http://127.0.0.1:8081/apis/ccompat/v7';
const maxMessages = Number(process.env.MAX_MESSAGES || Infinity);

// kafkajs 2.2.4 arms a timer with a negative delay on every connection; Node 24 runs it after 1 ms as
// before but prints a TimeoutNegativeWarning. Drop that one warning from that one place, keep the rest.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const negativeTimer = rest[0] === 'TimeoutNegativeWarning' || rest[0]?.type === 'TimeoutNegativeWarning';
  if (negativeTimer && /kafkajs[\\/]src[\\/]network[\\/]requestQueue/.test(new Error().stack)) return;
  emitWarning(warning, ...rest);
};

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** kafkajs's options for an analytics principal: its password (or a file holding it) and the brokers' CA. */
function credentials() {
  const username = required('KAFKA_USERNAME');
  const password = process.env.KAFKA_PASSWORD || fs.readFileSync(required('KAFKA_PASSWORD_FILE'), 'utf8').trim();
  return {
    username,
    ssl: { ca: [fs.readFileSync(required('KAFKA_CA_FILE'), 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username, password },
  };
}

// Amounts are Avro longs in minor units and may exceed 2^53, where a JavaScript number rounds. avsc's
// default long is a number (and refuses to decode one it cannot hold exactly), so every long is decoded
// as a BigInt instead: the registry client passes its AVRO options to avsc's Type.forSchema, and a type
// hook there answers every long (`"long"`, or `{"type": "long", ...}` as times are written) with this
// type. Times (timestamp-millis) so come out as BigInt milliseconds too.
const exactLong = avro.types.LongType.__with({
  fromBuffer: (buffer) => buffer.readBigInt64LE(),
  toBuffer: (value) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(BigInt(value));
    return buffer;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (value) => typeof value === 'bigint',
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});
const isLong = (schema) => schema === 'long' || (typeof schema === 'object' && schema?.type === 'long');
const avroOptions = { typeHook: (schema) => (isLong(schema) ? exactLong : undefined) };

async function main() {
  const { username, ssl, sasl } = credentials();
  const registry = new SchemaRegistry({ host: registryUrl }, { [SchemaType.AVRO]: avroOptions });
  const consumer = new Kafka({
    clientId: 'outside-registry-reader',
    brokers,
    ssl,
    sasl,
    logLevel: logLevel.NOTHING,
  }).consumer({
    groupId: process.env.GROUP_ID || `analytics.${username}.read-with-registry-${process.pid}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ topic, partition, message }) => {
          let event;
          try {
            event = await registry.decode(message.value);
          } catch (error) {
            // kafkajs would retry the record forever; a reader that cannot decode one should stop and say so.
            reject(new Error(`${topic}/${partition}@${message.offset}: ${error.message}`));
            throw error;
          }
          const line = { topic, key: String(message.key), type: String(message.headers.ce_type), event };
          process.stdout.write(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
          if (++seen >= maxMessages) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

main().catch((error) => {
  process.stderr.write(`read-with-registry: ${error.message}\n`);
  process.exit(1);
});
