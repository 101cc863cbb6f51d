// Proves the wire fast paths are opt-in: importing every library (the producer client, the Nest
// transport, persistence, this one) leaves kafkajs's produce request encoder, record decoder and
// coordinator lookup as kafkajs wrote them, and only installKafkaWireFastPaths() puts the replacements
// in their place.
/* eslint-disable @typescript-eslint/no-require-imports -- each case loads the libraries into a fresh module registry */
const PRODUCE_REQUEST = 'kafkajs/src/protocol/requests/produce/v3/request';
const RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder';
const CLUSTER = 'kafkajs/src/cluster/index.js';

const installedMarkers = () => ({
  encoders: (require(PRODUCE_REQUEST) as { [key: symbol]: unknown })[Symbol.for('tributary.kafkajsEncoders')] === true,
  decoder:
    (require(RECORD_DECODER) as { [key: symbol]: unknown })[Symbol.for('tributary.kafkajsRecordDecoder')] === true,
  coordinators:
    (require(CLUSTER) as { prototype: { findGroupCoordinator: { [key: symbol]: unknown } } }).prototype
      .findGroupCoordinator[Symbol.for('tributary.kafkajsCoordinators')] === true,
});

describe('the kafkajs wire fast paths', () => {
  beforeEach(() => jest.resetModules());

  it('are not installed by importing any library', () => {
    for (const library of [
      '@tributary/producer',
      '@tributary/messaging',
      '@tributary/persistence',
      '@tributary/kafka-client',
      '@tributary/kafka-wire',
    ])
      require(library);
    expect(installedMarkers()).toEqual({ encoders: false, decoder: false, coordinators: false });
  });

  it('are installed, all three, by the one call a service makes in its main', () => {
    (require('@tributary/kafka-wire') as typeof import('./index')).installKafkaWireFastPaths();
    expect(installedMarkers()).toEqual({ encoders: true, decoder: true, coordinators: true });
  });
});
