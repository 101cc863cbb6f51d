// Proves the simulated economy is deterministic and valid: the same options give the same events, every
// event passes its Avro contract, ids are unique, and inferences only attribute to contributions of the
// economy (or, on purpose now and then, to unknown ones), checked over many seeds with fast-check.
import fc from 'fast-check';
import { validateEvent } from '@tributary/contracts';
import { ECONOMY_DEFAULTS, economyOptionProblems, setupEventCount, takeEvents, type EconomyOptions } from '../src';

const options = (seed: number, runId = 'run'): EconomyOptions => ({
  ...ECONOMY_DEFAULTS,
  seed,
  runId,
  startTimeMs: 1_760_000_000_000n,
});

describe('the simulated economy', () => {
  describe('given the same options', () => {
    it('produces the same events, and another seed produces others', () => {
      expect(takeEvents(options(7), 300)).toEqual(takeEvents(options(7), 300));
      expect(takeEvents(options(8), 300)).not.toEqual(takeEvents(options(7), 300));
    });
  });

  describe('given any seed', () => {
    it('produces only events that pass their contract, with unique event ids, in setup-then-inference order', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
          const setup = setupEventCount(options(seed));
          const events = takeEvents(options(seed), setup + 60);
          for (const event of events) expect(validateEvent(event.type, event.data)).toEqual([]);
          expect(new Set(events.map((event) => event.data.eventId)).size).toBe(events.length);
          expect(events.slice(0, setup).every((event) => event.type !== 'InferenceCompleted')).toBe(true);
          expect(events.slice(setup).every((event) => event.type === 'InferenceCompleted')).toBe(true);
        }),
        { numRuns: 25 },
      );
    });

    it('attributes inferences to submitted contributions of the model, except the deliberate unknown ones', () => {
      const events = takeEvents(options(42), 2_000);
      const submitted = new Map<string, string>();
      const modelDatanets = new Map<string, readonly string[]>();
      for (const event of events) {
        if (event.type === 'ContributionSubmitted') submitted.set(event.data.contributionId, event.data.datanetId);
        if (event.type === 'ModelRegistered') modelDatanets.set(event.data.modelId, event.data.datanetIds);
        if (event.type !== 'InferenceCompleted') continue;
        for (const attribution of event.data.attributions) {
          const datanet = submitted.get(attribution.contributionId);
          if (datanet === undefined) expect(attribution.contributionId).toContain('unknown-contribution');
          else expect(modelDatanets.get(event.data.modelId)).toContain(datanet);
        }
      }
    });
  });

  describe('given bad options', () => {
    it('names each offending option and its rule', () => {
      const problems = economyOptionProblems({ ...options(1, 'has space'), datanetCount: 0, asset: '' });
      expect(problems).toEqual(
        expect.arrayContaining([
          'runId: must be 1 to 64 letters, digits, "_" or "-"',
          'datanetCount: must be from 1 to 1000',
          'asset: must be from 1 to 32 characters',
        ]),
      );
      expect(() => takeEvents({ ...options(1), modelCount: 0 }, 1)).toThrow('modelCount');
      expect(() => takeEvents(options(1), -1)).toThrow('count');
    });
  });
});
