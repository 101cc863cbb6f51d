// Proves the treasury's funding input is checked field by field before anything is published: each
// problem names its field and the rule, every problem is reported at once, money never passes through a
// JavaScript number, and an event id is generated unless the caller gives one (for idempotent retries).
import { encodeEvent, getEventContract } from '@tributary/contracts';
import { FUNDING_AMOUNT_MAX, FundingInputError, parseChargeback, parseDeposit } from './funding-input';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const newId = () => 'generated-id';
const deposit = {
  producer: 'urn:tributary:producer:acme',
  asset: 'USDC',
  amountMinor: '150000',
  railReference: 'sepa:TX-1',
};
const chargeback = { ...deposit, railReference: 'cb:77', reason: 'card chargeback 4837' };

const problemsOf = (run: () => unknown): readonly string[] => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FundingInputError);
    expect(error).toBeInstanceOf(RangeError);
    return (error as FundingInputError).problems;
  }
  throw new Error('expected a FundingInputError');
};

describe('a deposit', () => {
  it('becomes a FundsDeposited with a generated event id and the current time, valid against its schema', () => {
    const event = parseDeposit(deposit, NOW, newId);
    expect(event).toEqual({
      eventId: 'generated-id',
      producer: 'urn:tributary:producer:acme',
      occurredAt: BigInt(NOW),
      asset: 'USDC',
      amountMinor: 150_000n,
      railReference: 'sepa:TX-1',
    });
    expect(() => encodeEvent('FundsDeposited', event)).not.toThrow();
    expect(getEventContract('FundsDeposited').keyField).toBe('producer');
  });

  it('keeps an event id and a time the caller gives, so a retry publishes the same fact', () => {
    const event = parseDeposit(
      { ...deposit, eventId: 'treasury-2026-0001', occurredAt: '2026-12-05T10:00:00Z' },
      NOW,
      newId,
    );
    expect(event.eventId).toBe('treasury-2026-0001');
    expect(event.occurredAt).toBe(BigInt(Date.parse('2026-12-05T10:00:00Z')));
  });

  it('takes the largest amount a signed 64-bit column holds, exactly', () => {
    expect(parseDeposit({ ...deposit, amountMinor: String(FUNDING_AMOUNT_MAX) }, NOW, newId).amountMinor).toBe(
      2n ** 63n - 1n,
    );
  });

  it.each([
    [{ amountMinor: 150000 }, 'amountMinor: must be a decimal string of minor units (e.g. "1500"), not a JSON number'],
    [{ amountMinor: '0' }, `amountMinor: must be from 1 to ${FUNDING_AMOUNT_MAX}`],
    [{ amountMinor: '9223372036854775808' }, `amountMinor: must be from 1 to ${FUNDING_AMOUNT_MAX}`],
    [{ amountMinor: '-5' }, 'amountMinor: must be a whole number of minor units written in decimal digits'],
    [{ amountMinor: '1.50' }, 'amountMinor: must be a whole number of minor units written in decimal digits'],
    [{ amountMinor: '1e3' }, 'amountMinor: must be a whole number of minor units written in decimal digits'],
    [{ amountMinor: undefined }, 'amountMinor: is required'],
    [
      { producer: 'acme' },
      "producer: must be the producer's CloudEvents source as its inferences carry it (e.g. urn:tributary:producer:<id>), not a bare id",
    ],
    [{ producer: 'urn:tributary:producer:a cme' }, 'producer: must not contain spaces or control characters'],
    [{ producer: `urn:${'x'.repeat(253)}` }, 'producer: must be 1 to 256 characters, got 257'],
    [{ producer: '' }, 'producer: must be 1 to 256 characters, got 0'],
    [{ producer: 42 }, 'producer: must be a string'],
    [{ asset: 'X'.repeat(33) }, 'asset: must be 1 to 32 characters, got 33'],
    [{ asset: 'US DC' }, 'asset: must not contain spaces or control characters'],
    [{ railReference: undefined }, 'railReference: is required'],
    [{ railReference: 'r'.repeat(257) }, 'railReference: must be 1 to 256 characters, got 257'],
    [{ railReference: ' TX-1' }, 'railReference: must not contain control characters or start or end with a space'],
    [{ eventId: '' }, 'eventId: must be 1 to 256 characters, got 0'],
    [{ occurredAt: '2026-12-05' }, 'occurredAt: must be an ISO 8601 time with a time zone (e.g. 2026-12-05T10:00:00Z)'],
    [{ occurredAt: '2027-01-01T00:00:00Z' }, 'occurredAt: must not be in the future'],
    [
      { reason: 'not a deposit field' },
      'reason: is not a field of this request (allowed: eventId, producer, asset, amountMinor, railReference, occurredAt)',
    ],
  ])('refuses %j naming the field and the rule', (change, problem) => {
    expect(problemsOf(() => parseDeposit({ ...deposit, ...change }, NOW, newId))).toEqual([problem]);
  });

  it('reports every bad field at once, in one message', () => {
    const problems = problemsOf(() => parseDeposit({ amountMinor: 5 }, NOW, newId));
    expect(problems).toEqual([
      'producer: is required',
      'asset: is required',
      'amountMinor: must be a decimal string of minor units (e.g. "1500"), not a JSON number',
      'railReference: is required',
    ]);
    expect(() => parseDeposit({}, NOW, newId)).toThrow(
      'producer: is required; asset: is required; amountMinor: is required; railReference: is required',
    );
  });

  it.each([null, [], 'deposit', 7])('refuses a body that is not an object (%j)', (body) => {
    expect(problemsOf(() => parseDeposit(body, NOW, newId))).toEqual(['body: must be a JSON object']);
  });
});

describe('a chargeback', () => {
  it('becomes a FundsReversed with reversesEventId null unless it names the deposit', () => {
    const event = parseChargeback(chargeback, NOW, newId);
    expect(event).toEqual({
      eventId: 'generated-id',
      producer: 'urn:tributary:producer:acme',
      occurredAt: BigInt(NOW),
      asset: 'USDC',
      amountMinor: 150_000n,
      railReference: 'cb:77',
      reason: 'card chargeback 4837',
      reversesEventId: null,
    });
    expect(() => encodeEvent('FundsReversed', event)).not.toThrow();
    expect(parseChargeback({ ...chargeback, reversesEventId: 'treasury-2026-0001' }, NOW, newId).reversesEventId).toBe(
      'treasury-2026-0001',
    );
  });

  it.each([
    [{ reason: undefined }, 'reason: is required'],
    [{ reason: '' }, 'reason: must be 1 to 4096 characters, got 0'],
    [{ reason: 'r'.repeat(4097) }, 'reason: must be 1 to 4096 characters, got 4097'],
    [{ reversesEventId: '' }, 'reversesEventId: must be 1 to 256 characters, got 0'],
    [{ reversesEventId: 'two words' }, 'reversesEventId: must not contain spaces or control characters'],
    [{ amountMinor: 10 }, 'amountMinor: must be a decimal string of minor units (e.g. "1500"), not a JSON number'],
  ])('refuses %j naming the field and the rule', (change, problem) => {
    expect(problemsOf(() => parseChargeback({ ...chargeback, ...change }, NOW, newId))).toEqual([problem]);
  });
});
