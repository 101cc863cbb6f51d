// API keys and their scopes. A key is shown once when it is created; the gateway keeps only its
// SHA-256 (the shape and the hash are libs/access's SecretKeyFormat, shared with the read credentials).
import { hashSecretKey, SecretKeyFormat, type NewSecretKey } from '@tributary/access';
import type { EventType } from '@tributary/contracts';
import { eventTypeRefusal, GATEWAY_EVENT_TYPES, isGatewayEventType } from '../ingest/wire-format';

export const KEY_PREFIX = 'trb';
const API_KEYS = new SecretKeyFormat(KEY_PREFIX);
/** A producer id becomes part of ce_source (urn:tributary:producer:<id>), so it is a URN-safe name. */
export const PRODUCER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SCOPED_ID = /^[^\s,]{1,256}$/;
export const ANY = '*';
export const SCOPE_ENTRIES_MAX = 1_000;

/** What a key may publish: each list is either ['*'] (anything) or explicit names; an empty datanet or model list allows none. */
export interface ApiKeyScope {
  readonly producerId: string;
  readonly eventTypes: readonly string[];
  readonly datanetIds: readonly string[];
  readonly modelIds: readonly string[];
}

export type NewApiKey = NewSecretKey;

export function generateApiKey(): NewApiKey {
  return API_KEYS.generate();
}

export function hashApiKey(key: string): string {
  return hashSecretKey(key);
}

/** True when the string has the shape of a key, so garbage never reaches the database. */
export function looksLikeApiKey(candidate: string): boolean {
  return API_KEYS.looksLike(candidate);
}

/** The ce_source of everything a producer publishes through the gateway. */
export function sourceOf(producerId: string): string {
  return `urn:tributary:producer:${producerId}`;
}

/** Every problem with a scope given on the command line, each naming the option and its rule. */
export function scopeProblems(scope: ApiKeyScope): string[] {
  const problems: string[] = [];
  if (!PRODUCER_ID.test(scope.producerId))
    problems.push('producer: must be 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit');
  /** `problemOf` says what is wrong with one value, or undefined when it may be granted. */
  const list = (option: string, values: readonly string[], problemOf: (value: string) => string | undefined) => {
    if (option === 'event-types' && values.length === 0)
      problems.push(`${option}: must name at least one event type, or * for any`);
    else if (values.length > SCOPE_ENTRIES_MAX)
      problems.push(`${option}: must name at most ${SCOPE_ENTRIES_MAX} values`);
    else if (values.includes(ANY) && values.length > 1) problems.push(`${option}: * stands alone`);
    else {
      for (const value of values) {
        const problem = value === ANY ? undefined : problemOf(value);
        if (problem !== undefined) problems.push(`${option}: "${value.slice(0, 64)}" ${problem}`);
      }
    }
  };
  const scopedIdProblem = (value: string) =>
    SCOPED_ID.test(value) ? undefined : 'must be 1 to 256 characters without spaces or commas';
  list('event-types', scope.eventTypes, eventTypeProblem);
  list('datanets', scope.datanetIds, scopedIdProblem);
  list('models', scope.modelIds, scopedIdProblem);
  return problems;
}

/**
 * Why a key may not be granted an event type. A type one service alone publishes is refused with that
 * rule, because a key granting it would promise the producer what the gateway refuses every time.
 */
function eventTypeProblem(value: string): string | undefined {
  if (isGatewayEventType(value)) return undefined;
  const refusal = eventTypeRefusal(value);
  if (refusal.rule === 'internalEventType') return `cannot be granted: ${refusal.message}`;
  return `is not an event type producers publish (${GATEWAY_EVENT_TYPES.join(', ')})`;
}

export interface ScopeIssue {
  readonly path: string;
  readonly rule: 'eventTypeNotAllowed' | 'datanetNotAllowed' | 'modelNotAllowed';
  readonly message: string;
}

/**
 * Why this key may not publish this event; empty when it may. Datanet events and contributions are
 * bound to the datanets a key owns; model registrations, retirements and inferences to the models it
 * owns or serves. Validations and revocations name only a contribution: what the event shows is judged
 * here by its type, and its datanet later, from the gateway's record of the contribution's submission
 * (ingest/contribution-scope.ts).
 */
export function scopeIssues(scope: ApiKeyScope, eventType: EventType, data: Record<string, unknown>): ScopeIssue[] {
  if (!allows(scope.eventTypes, eventType)) {
    return [{ path: '', rule: 'eventTypeNotAllowed', message: `this key may not publish ${eventType}` }];
  }
  const issues: ScopeIssue[] = [];
  const datanetId = data['datanetId'];
  if (DATANET_SCOPED.has(eventType) && typeof datanetId === 'string' && !allows(scope.datanetIds, datanetId)) {
    issues.push({ path: 'datanetId', rule: 'datanetNotAllowed', message: 'this key may not publish for this datanet' });
  }
  const modelId = data['modelId'];
  if (MODEL_SCOPED.has(eventType) && typeof modelId === 'string' && !allows(scope.modelIds, modelId)) {
    issues.push({ path: 'modelId', rule: 'modelNotAllowed', message: 'this key may not publish for this model' });
  }
  return issues;
}

const DATANET_SCOPED: ReadonlySet<EventType> = new Set(['DatanetCreated', 'DatanetUpdated', 'ContributionSubmitted']);
const MODEL_SCOPED: ReadonlySet<EventType> = new Set(['ModelRegistered', 'ModelRetired', 'InferenceCompleted']);

function allows(allowed: readonly string[], value: string): boolean {
  return allowed.includes(ANY) || allowed.includes(value);
}
