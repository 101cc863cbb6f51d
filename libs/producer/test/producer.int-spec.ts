// Proves the typed producer client against the real broker: every event type published with it is read
// back by a plain kafkajs consumer, decodes to what was sent, and carries correct CloudEvents headers;
// a batch reports each event's own offset; and bad input is refused before anything reaches Kafka.
import { randomUUID } from 'node:crypto';
import { type KafkaMessage } from 'kafkajs';
import {
  CE_HEADERS,
  catalogFor,
  ceTypeOf,
  ContractError,
  EVENT_TYPES,
  fromRecord,
  getEventContract,
  topicCatalog,
  type EventType,
} from '@tributary/contracts';
import { SAMPLE_EVENTS } from '../../contracts/src/schemas/sample-events.fixture';
import { ensureTopics } from '@tributary/messaging';
import { readTopic, uniqueName, withAdmin, testClientOptions, headersOf } from '@tributary/testing';
import { TributaryProducer } from '../src';

describe('the typed producer client', () => {
  const prefix = `${uniqueName('p')}.`;
  const catalog = catalogFor(prefix);
  let producer: TributaryProducer;

  beforeAll(async () => {
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalog), 1));
    producer = await TributaryProducer.connect({
      ...testClientOptions('producer-spec'),
      source: 'urn:tributary:producer-spec',
      topicPrefix: prefix,
      transactionalId: uniqueName('producer-spec'),
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it.each(EVENT_TYPES.map((type) => [type]))(
    'publishes %s and a plain consumer reads it back, decoded and with its headers',
    async (type: EventType) => {
      const data = SAMPLE_EVENTS[type];
      const traceparent = `00-${randomUUID().replace(/-/g, '')}-${'a'.repeat(16)}-01`;
      const result = await producer.publish(type, data, { traceparent });
      const topic = `${prefix}${getEventContract(type).topic}`;
      expect(result.topic).toBe(topic);

      const isOurs = (candidate: KafkaMessage) =>
        candidate.offset === result.offset && headersOf(candidate)[CE_HEADERS.id] === result.eventId;
      const message = (await readTopic(topic, isOurs, 10_000)).find(isOurs);
      expect(message).toBeDefined();
      const headers = headersOf(message!);
      expect(headers).toMatchObject({
        ce_specversion: '1.0',
        ce_id: (data as { eventId: string }).eventId,
        ce_type: ceTypeOf(type),
        ce_source: 'urn:tributary:producer-spec',
        ce_schemaname: ceTypeOf(type),
        ce_schemaversion: String(getEventContract(type).latestVersion),
        ce_dataschema: `urn:tributary:schema:sha256:${getEventContract(type).latest.fingerprintSha256}`,
        'content-type': 'application/avro',
        traceparent,
      });
      expect(new Date(headers.ce_time!).toISOString()).toBe(headers.ce_time);
      expect(message!.key?.toString()).toBe(headers.ce_subject);
      const decoded = fromRecord(message!.value, headers);
      expect(decoded.type).toBe(type);
      expect(decoded.data).toEqual(data);
    },
  );

  it('publishes a mixed batch atomically and reports each event where it landed', async () => {
    const inferenceIds = Array.from({ length: 20 }, () => randomUUID());
    const events = inferenceIds.map((inferenceId) => ({
      type: 'InferenceCompleted' as const,
      data: { ...SAMPLE_EVENTS.InferenceCompleted, eventId: `evt-${inferenceId}`, inferenceId },
    }));
    const results = await producer.publishBatch([
      ...events,
      { type: 'ModelRetired', data: SAMPLE_EVENTS.ModelRetired },
    ]);
    expect(results).toHaveLength(21);
    const topic = `${prefix}tributary.inferences`;
    const seen = new Set<string>();
    const messages = await readTopic(
      topic,
      (message) => seen.add(message.key?.toString() ?? '').size > 0 && inferenceIds.every((id) => seen.has(id)),
      10_000,
    );
    for (const [index, inferenceId] of inferenceIds.entries()) {
      const landed = messages.find((message) => message.key?.toString() === inferenceId);
      expect(landed?.offset).toBe(results[index]!.offset);
      expect(results[index]).toMatchObject({ eventId: `evt-${inferenceId}`, topic });
    }
  });

  describe('given bad input', () => {
    const refused = async (publish: () => Promise<unknown>, fieldMessage: string) => {
      await expect(publish()).rejects.toThrow(ContractError);
      await expect(publish()).rejects.toThrow(fieldMessage);
    };

    it('refuses each before anything is sent, naming the field', async () => {
      const payout = { ...SAMPLE_EVENTS.PayoutRequested, accountId: `contributor:${randomUUID()}` };
      const { amountMinor: _omitted, ...missing } = payout;
      await refused(() => producer.publish('PayoutRequested', missing as never), 'amountMinor');
      await refused(() => producer.publish('PayoutRequested', { ...payout, epoch: 'seven' } as never), 'epoch');
      await refused(() => producer.publish('PayoutRequested', { ...payout, amountMinor: -5n }), 'amountMinor');
      await refused(
        () => producer.publish('PayoutRequested', { ...payout, payoutId: 'x'.repeat(10 * 1024 * 1024) }),
        'payoutId',
      );
      await refused(() => producer.publish('NoSuchEvent' as never, payout as never), 'unknown event type');
      await refused(
        () =>
          producer.publishBatch([
            { type: 'PayoutRequested', data: payout },
            { type: 'PayoutRequested', data: { ...payout, asset: '' } },
          ]),
        'asset',
      );
      const published = await readTopic(`${prefix}tributary.payouts`, 1_000, 3_000);
      expect(published.filter((message) => message.key?.toString() === payout.accountId)).toEqual([]);
    });
  });
});
