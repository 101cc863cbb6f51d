// Proves the simulator sends the economy in an order the attribution service can decide: a send holding
// a table event (datanet, contribution, validation, model) is answered before any later send starts, so
// no inference reaches Kafka before what it names and no validation before its submission, while
// inferences still go out many at once. A recording sender stands in for the gateway; it answers sends
// out of order, as a busy gateway does.
import type { SimulatedEvent } from '@tributary/simulator';
import { simulate, type Send, type SimulateOptions } from '../src/cli/simulate-cli';

const OPTIONS: SimulateOptions = {
  rate: 100_000,
  count: 600,
  via: 'gateway',
  seed: 7,
  runId: 'order-spec',
  batchSize: 1,
  concurrency: 16,
  gatewayUrl: 'http://127.0.0.1:1',
  apiKey: undefined,
  durationMaxS: 60,
  progress: false,
  fundPercent: 0,
  payoutsUrl: 'http://127.0.0.1:1',
  operatorToken: undefined,
};

interface Started {
  readonly events: readonly SimulatedEvent[];
  /** The table-bearing sends started before this one and not yet answered when it started. */
  readonly overtaken: number;
}

function recordingSender(): { send: Send; started: Started[]; inFlightMax: () => number } {
  const started: Started[] = [];
  const unanswered = new Set<readonly SimulatedEvent[]>();
  let inFlight = 0;
  let inFlightMax = 0;
  let calls = 0;
  const send: Send = async (events) => {
    const overtaken = [...unanswered].filter((unit) => unit.some((event) => event.type !== 'InferenceCompleted'));
    started.push({ events, overtaken: overtaken.length });
    unanswered.add(events);
    inFlight += 1;
    inFlightMax = Math.max(inFlightMax, inFlight);
    calls += 1;
    // Later sends are often answered first: 0 to 4 ms, by the call's number.
    await new Promise((resolve) => setTimeout(resolve, (calls * 7) % 5));
    unanswered.delete(events);
    inFlight -= 1;
    return 'urn:tributary:producer:spec';
  };
  return { send, started, inFlightMax: () => inFlightMax };
}

describe('the simulator sending the economy', () => {
  it('never starts a send while an earlier one holding a table event is unanswered', async () => {
    const { send, started } = recordingSender();
    const summary = await simulate(OPTIONS, () => undefined, send);
    expect(summary).toMatchObject({ sent: OPTIONS.count, accepted: OPTIONS.count, failed: 0 });
    const types = new Set(started.flatMap(({ events }) => events.map((event) => event.type)));
    expect(types).toEqual(
      new Set([
        'DatanetCreated',
        'ContributionSubmitted',
        'ContributionValidated',
        'ContributionRevoked',
        'ModelRegistered',
        'InferenceCompleted',
      ]),
    );
    expect(started.filter(({ overtaken }) => overtaken > 0)).toEqual([]);
  });

  it('still sends inferences many at once, up to the concurrency', async () => {
    const { send, inFlightMax } = recordingSender();
    await simulate({ ...OPTIONS, batchSize: 10 }, () => undefined, send);
    expect(inFlightMax()).toBeGreaterThan(1);
    expect(inFlightMax()).toBeLessThanOrEqual(OPTIONS.concurrency);
  });
});
