import { randomUUID } from 'node:crypto';
import type { FundsDeposited, FundsReversed } from '@tributary/contracts';

/**
 * The treasury's input for a funding event, from the CLI's options or an HTTP body, checked field by
 * field before anything is sent. Every problem is reported at once, each as `<field>: <rule>`, in a
 * FundingInputError (a RangeError, so the CLI exits 2 and HTTP answers 400 with the message).
 *
 * - producer: the producer's CloudEvents source exactly as its inferences carry it (the gateway stamps
 *   `urn:tributary:producer:<id>`; a direct Kafka producer declares its own), because the ledger matches
 *   a deposit to the decisions it backs by this string. A bare id is refused rather than guessed at.
 * - amountMinor: a decimal string of minor units, 1 to 2^63-1. A JSON number is refused even when it
 *   looks whole: above 2^53 it has already lost digits by the time it reaches us.
 * - eventId: generated (a UUID) unless given, so a caller retrying after a lost answer passes its own and
 *   the ledger deduplicates the second copy.
 */
export const FUNDING_AMOUNT_MAX = 2n ** 63n - 1n;
const ID_MAX = 256;
const ASSET_MAX = 32;
const REASON_MAX = 4_096;

export class FundingInputError extends RangeError {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'FundingInputError';
  }
}

/** What a deposit command or request may hold; every field is checked, unknown fields are refused. */
export interface DepositInput {
  readonly eventId?: unknown;
  readonly producer?: unknown;
  readonly asset?: unknown;
  readonly amountMinor?: unknown;
  readonly railReference?: unknown;
  readonly occurredAt?: unknown;
}

export interface ChargebackInput extends DepositInput {
  readonly reason?: unknown;
  readonly reversesEventId?: unknown;
}

const DEPOSIT_FIELDS = ['eventId', 'producer', 'asset', 'amountMinor', 'railReference', 'occurredAt'] as const;
const CHARGEBACK_FIELDS = [...DEPOSIT_FIELDS, 'reason', 'reversesEventId'] as const;

type Problems = string[];

const hasControl = (value: string) => /[\u0000-\u001f\u007f]/.test(value);

function text(
  problems: Problems,
  field: string,
  value: unknown,
  max: number,
  options: { noSpace?: boolean } = {},
): string | undefined {
  if (value === undefined || value === null) {
    problems.push(`${field}: is required`);
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push(`${field}: must be a string`);
    return undefined;
  }
  if (value.length < 1 || value.length > max) {
    problems.push(`${field}: must be 1 to ${max} characters, got ${value.length}`);
    return undefined;
  }
  if (options.noSpace ? /[\s\u0000-\u001f\u007f]/.test(value) : hasControl(value) || value.trim() !== value) {
    problems.push(
      options.noSpace
        ? `${field}: must not contain spaces or control characters`
        : `${field}: must not contain control characters or start or end with a space`,
    );
    return undefined;
  }
  return value;
}

function producerOf(problems: Problems, value: unknown): string | undefined {
  const producer = text(problems, 'producer', value, ID_MAX, { noSpace: true });
  if (producer === undefined) return undefined;
  // A CloudEvents source is a URI reference; every source Tributary stamps is a URN with a scheme.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(producer)) {
    problems.push(
      `producer: must be the producer's CloudEvents source as its inferences carry it (e.g. urn:tributary:producer:<id>), not a bare id`,
    );
    return undefined;
  }
  return producer;
}

function amountOf(problems: Problems, value: unknown): bigint | undefined {
  if (value === undefined || value === null) {
    problems.push('amountMinor: is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push(
      `amountMinor: must be a decimal string of minor units (e.g. "1500"), not a ${typeof value === 'number' ? 'JSON number' : typeof value}`,
    );
    return undefined;
  }
  if (!/^[0-9]{1,19}$/.test(value)) {
    problems.push('amountMinor: must be a whole number of minor units written in decimal digits');
    return undefined;
  }
  const amount = BigInt(value);
  if (amount < 1n || amount > FUNDING_AMOUNT_MAX) {
    problems.push(`amountMinor: must be from 1 to ${FUNDING_AMOUNT_MAX}`);
    return undefined;
  }
  return amount;
}

function eventIdOf(problems: Problems, field: string, value: unknown, newId: () => string): string | undefined {
  if (value === undefined || value === null) return newId();
  return text(problems, field, value, ID_MAX, { noSpace: true });
}

function occurredAtOf(problems: Problems, value: unknown, now: number): bigint | undefined {
  if (value === undefined || value === null) return BigInt(now);
  const parsed =
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(parsed) || parsed < 0) {
    problems.push('occurredAt: must be an ISO 8601 time with a time zone (e.g. 2026-12-05T10:00:00Z)');
    return undefined;
  }
  if (parsed > now + 5 * 60_000) {
    problems.push('occurredAt: must not be in the future');
    return undefined;
  }
  return BigInt(parsed);
}

function unknownFields(problems: Problems, input: object, allowed: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key))
      problems.push(`${key}: is not a field of this request (allowed: ${allowed.join(', ')})`);
  }
}

function asObject(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new FundingInputError(['body: must be a JSON object']);
  return input as Record<string, unknown>;
}

function common(problems: Problems, input: Record<string, unknown>, now: number, newId: () => string) {
  return {
    eventId: eventIdOf(problems, 'eventId', input['eventId'], newId),
    producer: producerOf(problems, input['producer']),
    occurredAt: occurredAtOf(problems, input['occurredAt'], now),
    asset: text(problems, 'asset', input['asset'], ASSET_MAX, { noSpace: true }),
    amountMinor: amountOf(problems, input['amountMinor']),
    railReference: text(problems, 'railReference', input['railReference'], ID_MAX),
  };
}

/** A FundsDeposited from the treasury's input; a FundingInputError naming every bad field. */
export function parseDeposit(
  input: unknown,
  now: number = Date.now(),
  newId: () => string = randomUUID,
): FundsDeposited {
  const body = asObject(input);
  const problems: Problems = [];
  unknownFields(problems, body, DEPOSIT_FIELDS);
  const fields = common(problems, body, now, newId);
  if (problems.length > 0) throw new FundingInputError(problems);
  return fields as FundsDeposited;
}

/** A FundsReversed (a chargeback) from the treasury's input; a FundingInputError naming every bad field. */
export function parseChargeback(
  input: unknown,
  now: number = Date.now(),
  newId: () => string = randomUUID,
): FundsReversed {
  const body = asObject(input);
  const problems: Problems = [];
  unknownFields(problems, body, CHARGEBACK_FIELDS);
  const fields = common(problems, body, now, newId);
  const reason = text(problems, 'reason', body['reason'], REASON_MAX);
  const reverses = body['reversesEventId'];
  const reversesEventId =
    reverses === undefined || reverses === null
      ? null
      : text(problems, 'reversesEventId', reverses, ID_MAX, { noSpace: true });
  if (problems.length > 0) throw new FundingInputError(problems);
  return { ...fields, reason, reversesEventId } as FundsReversed;
}
