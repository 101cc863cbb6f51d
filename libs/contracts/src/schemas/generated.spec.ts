// Proves the committed generated types and registry match schemas/ (one source of truth) by
// regenerating them in memory, and that the runtime registry routes every event as the design and
// the topic catalog say.
import * as fs from 'fs';
import * as path from 'path';
import { GENERATE_COMMAND, renderGeneratedFiles } from './codegen';
import { EVENT_TYPES, type TributaryEvent } from './generated/event-types';
import { eventKey, findByFingerprint, getEventContract, isEventType, listEventContracts, topicOf } from './registry';
import { loadSchemaCatalog } from './schema-files';
import { SAMPLE_EVENTS } from './sample-events.fixture';
import { catalogFor } from '../topics';

const GENERATED_DIR = path.join(__dirname, 'generated');

describe('given the committed generated files', () => {
  const expected = renderGeneratedFiles(loadSchemaCatalog());

  it.each([...expected.keys()])('%s is up to date with schemas/', (file) => {
    const committed = fs.existsSync(path.join(GENERATED_DIR, file))
      ? fs.readFileSync(path.join(GENERATED_DIR, file), 'utf8')
      : '';
    if (committed !== expected.get(file)) {
      throw new Error(`libs/contracts/src/schemas/generated/${file} is stale: run ${GENERATE_COMMAND}`);
    }
  });

  it('holds no file the generator would not write', () => {
    expect(fs.readdirSync(GENERATED_DIR).sort()).toEqual([...expected.keys()].sort());
  });
});

describe('given the runtime registry', () => {
  it('knows every event type, each with its latest version and a SHA-256 fingerprint per version', () => {
    expect(listEventContracts().map((contract) => contract.eventType)).toEqual([...EVENT_TYPES]);
    for (const contract of listEventContracts()) {
      expect(contract.latestVersion).toBe(Math.max(...contract.versions.keys()));
      for (const version of contract.versions.values()) {
        expect(version.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
        expect(findByFingerprint(version.fingerprintSha256)).toEqual({
          eventType: contract.eventType,
          version: version.version,
        });
      }
    }
  });

  it('routes every event to the topic and key of the topic catalog', () => {
    const topics = Object.values(catalogFor('').topics);
    for (const contract of listEventContracts()) {
      const topic = topics.find((candidate) => candidate.name === contract.topic);
      expect({ eventType: contract.eventType, keyField: topic?.keyField }).toEqual({
        eventType: contract.eventType,
        keyField: contract.keyField,
      });
    }
  });

  it('gives the Kafka key of an event from its key field', () => {
    expect(topicOf('PayoutSettled')).toBe('tributary.payouts');
    expect(eventKey('PayoutSettled', SAMPLE_EVENTS.PayoutSettled)).toBe(SAMPLE_EVENTS.PayoutSettled.accountId);
    expect(eventKey('InferenceAttributed', SAMPLE_EVENTS.InferenceAttributed)).toBe('inference-1');
  });

  it('tells event types from other strings', () => {
    expect(isEventType('InferenceCompleted')).toBe(true);
    expect(isEventType('InferenceExploded')).toBe(false);
    expect(() => getEventContract('InferenceExploded')).toThrow('InferenceExploded: unknown event type');
  });

  it('makes TributaryEvent a union a switch can exhaust (a new event type nobody handles fails to compile)', () => {
    const topicOfEvent = (event: TributaryEvent): string => {
      switch (event.type) {
        case 'DatanetCreated':
        case 'DatanetUpdated':
          return event.data.datanetId;
        case 'ContributionSubmitted':
        case 'ContributionValidated':
        case 'ContributionRevoked':
          return event.data.contributionId;
        case 'ModelRegistered':
        case 'ModelRetired':
          return event.data.modelId;
        case 'InferenceCompleted':
        case 'InferenceAttributed':
          return event.data.inferenceId;
        case 'PayoutRequested':
        case 'PayoutSettled':
        case 'PayoutFailed':
          return event.data.accountId;
        case 'FundsDeposited':
        case 'FundsReversed':
          return event.data.producer;
        default: {
          const unhandled: never = event;
          return unhandled;
        }
      }
    };
    for (const type of EVENT_TYPES) {
      const event = { type, data: SAMPLE_EVENTS[type] } as TributaryEvent;
      expect(topicOfEvent(event)).toBe(eventKey(type, SAMPLE_EVENTS[type] as never));
    }
  });
});
