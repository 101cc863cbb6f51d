#!/usr/bin/env node
// Reading a Tributary topic from outside this repository: only kafkajs, avsc and the schema catalog's
// HTTP endpoint, no code of ours. services/gateway/test/external-consumer.int-spec.ts runs this file.
// It authenticates as an analytics principal (SASL/SCRAM-SHA-512 over TLS); the operator issues one
// with `npm run kafka -- principals add-analytics <name>`, and its consumer groups start with
// `analytics.<name>.`.
//
//   BROKERS=127.0.0.1:9092 KAFKA_USERNAME=bi KAFKA_PASSWORD_FILE=bi.password KAFKA_CA_FILE=.cache/kafka-data/dev/tls/ca.crt \
//   TOPIC=tributary.inferences CATALOG_URL=http://127.0.0.1:3100 node docs/examples/read-topic.js
'use strict';
const fs = require('node:fs');
const { Kafka, logLevel } = require('kafkajs');
const avro = require('avsc');

const brokers = (process.env.BROKERS || '127.0.0.1:9092').split(',');
const topic = process.env.TOPIC || 'tributary.inferences';
const catalogUrl = process.env.CATALOG_URL || 'http://127.0.0.1:3100';
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

// Amounts are Avro longs in minor units and may exceed 2^53: decode them as BigInt, exactly.
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

const writerTypes = new Map(); // fingerprint -> avsc Type, fetched once each
async function writerType(headers) {
  const fingerprint = String(headers.ce_dataschema).split(':').pop();
  if (!writerTypes.has(fingerprint)) {
    const response = await fetch(`${catalogUrl}/schemas/${fingerprint}`);
    if (!response.ok) throw new Error(`schema ${fingerprint}: HTTP ${response.status}`);
    const entry = await response.json();
    writerTypes.set(fingerprint, avro.Type.forSchema(entry.schema, { registry: { long: exactLong } }));
  }
  return writerTypes.get(fingerprint);
}

// A record's value is raw Avro (`application/avro`, every record written before the schema registry) or
// Confluent-framed (`application/vnd.tributary.avro+confluent`: a zero byte and the 4-byte big-endian
// registry id before the same Avro body). Either way the writer schema is the one ce_dataschema names,
// so this reader only steps over the prefix; a reader using the registry would look the id up instead.
function avroBody(message) {
  const contentType = String(message.headers['content-type']);
  const value = message.value;
  if (contentType === 'application/avro') return value;
  if (contentType !== 'application/vnd.tributary.avro+confluent') throw new Error(`content-type ${contentType}`);
  if (value.length < 5 || value[0] !== 0) throw new Error('value: not a Confluent-framed Avro value');
  return value.subarray(5);
}

async function main() {
  const { username, ssl, sasl } = credentials();
  const consumer = new Kafka({ clientId: 'outside-reader', brokers, ssl, sasl, logLevel: logLevel.NOTHING }).consumer({
    groupId: process.env.GROUP_ID || `${process.env.TOPIC_PREFIX || ''}analytics.${username}.read-topic-${process.pid}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          const event = (await writerType(message.headers)).fromBuffer(avroBody(message));
          const line = { type: String(message.headers.ce_type), key: String(message.key), event };
          process.stdout.write(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
          if (++seen >= maxMessages) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

main().catch((error) => {
  process.stderr.write(`read-topic: ${error.message}\n`);
  process.exit(1);
});
