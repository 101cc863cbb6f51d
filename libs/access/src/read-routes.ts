// Who may call which route of the ledger API and the payouts service: one table, read by both services'
// guards, by the integration test that calls every route without a credential, and documented in both
// READMEs. A route that is not in the table is refused to everyone (the guard fails closed), so a new
// route has to be added here before anyone can call it.
import type { Scope } from './scopes';

export type ReadService = 'ledger-api' | 'payouts';

/** Where a route names the account it is about: a path parameter or a query parameter. */
export type AccountAt = { readonly path: string } | { readonly query: string };

/**
 * Who may call a route besides an operator (an operator may call every route that is not `public` or
 * `operator-token`):
 * - `public`: anyone, no credential (health, metrics);
 * - `operator-token`: an operator write with its own guard and token (the payouts service's
 *   PAYOUTS_OPERATOR_TOKEN); read credentials do not apply;
 * - `operator`: operators only;
 * - `any-reader`: any valid credential (who am I);
 * - otherwise the readers listed: analysts (optionally only for some values of a query parameter), and
 *   participants for the account the route names.
 */
export type ReadRule =
  | 'public'
  | 'operator-token'
  | 'operator'
  | 'any-reader'
  | {
      readonly analyst?: true | { readonly query: string; readonly oneOf: readonly string[] };
      readonly participant?: AccountAt;
    };

export interface ReadRoute {
  readonly service: ReadService;
  readonly method: 'GET' | 'POST';
  /** The route's pattern as the HTTP router matched it (Express syntax, `:name` for a parameter). */
  readonly path: string;
  readonly rule: ReadRule;
}

const OWN_ACCOUNT = { participant: { path: 'account' } } as const;

export const READ_ROUTES: readonly ReadRoute[] = [
  { service: 'ledger-api', method: 'GET', path: '/health/live', rule: 'public' },
  { service: 'ledger-api', method: 'GET', path: '/health/ready', rule: 'public' },
  { service: 'ledger-api', method: 'GET', path: '/metrics', rule: 'public' },
  { service: 'ledger-api', method: 'GET', path: '/v1/me', rule: 'any-reader' },
  { service: 'ledger-api', method: 'GET', path: '/v1/accounts', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/accounts/:account', rule: OWN_ACCOUNT },
  { service: 'ledger-api', method: 'GET', path: '/v1/accounts/:account/statement', rule: OWN_ACCOUNT },
  { service: 'ledger-api', method: 'GET', path: '/v1/accounts/:account/contributions', rule: OWN_ACCOUNT },
  { service: 'ledger-api', method: 'GET', path: '/v1/accounts/:account/funding', rule: OWN_ACCOUNT },
  // A decision names every account it credits, and a contribution or payout id names no owner: operators.
  { service: 'ledger-api', method: 'GET', path: '/v1/inferences/:inferenceId', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/contributions/:contributionId', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/payouts', rule: { participant: { query: 'account' } } },
  { service: 'ledger-api', method: 'GET', path: '/v1/payouts/:payoutId', rule: 'operator' },
  // Revenue per contributor is per person, not an aggregate: operators only.
  {
    service: 'ledger-api',
    method: 'GET',
    path: '/v1/revenue',
    rule: { analyst: { query: 'dimension', oneOf: ['datanet', 'model'] } },
  },
  { service: 'ledger-api', method: 'GET', path: '/v1/flow', rule: { analyst: true } },
  // Named accounts with their balances: individual figures, not an aggregate.
  { service: 'ledger-api', method: 'GET', path: '/v1/top-earners', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/digest', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/lag', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/dlq', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/freshness', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/producers/:producer/funding', rule: 'operator' },
  { service: 'ledger-api', method: 'GET', path: '/v1/funding', rule: 'operator' },
  { service: 'payouts', method: 'GET', path: '/health/live', rule: 'public' },
  { service: 'payouts', method: 'GET', path: '/health/ready', rule: 'public' },
  { service: 'payouts', method: 'GET', path: '/metrics', rule: 'public' },
  {
    service: 'payouts',
    method: 'GET',
    path: '/accounts/:accountId/payouts',
    rule: { participant: { path: 'accountId' } },
  },
  { service: 'payouts', method: 'GET', path: '/epochs/:epoch', rule: 'operator' },
  { service: 'payouts', method: 'POST', path: '/epochs/close', rule: 'operator-token' },
  { service: 'payouts', method: 'POST', path: '/payouts/:payoutId/resolution', rule: 'operator-token' },
  { service: 'payouts', method: 'POST', path: '/funding/deposits', rule: 'operator-token' },
  { service: 'payouts', method: 'POST', path: '/funding/chargebacks', rule: 'operator-token' },
];

/** The routes of one service, keyed `METHOD path`. */
export function routeTable(service: ReadService): ReadonlyMap<string, ReadRule> {
  return new Map(
    READ_ROUTES.filter((route) => route.service === service).map((route) => [
      `${route.method} ${route.path}`,
      route.rule,
    ]),
  );
}

/** What a request carries that a rule may look at. */
export interface RequestFacts {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, unknown>>;
}

/** True when a reader holding these scopes may call a route with this rule (`public` and `operator-token` need none). */
export function mayRead(rule: ReadRule, scopes: readonly Scope[], request: RequestFacts): boolean {
  if (rule === 'public' || rule === 'operator-token') return true;
  if (scopes.some((scope) => scope.kind === 'operator')) return true;
  if (rule === 'operator') return false;
  if (rule === 'any-reader') return true;
  if (rule.analyst !== undefined && scopes.some((scope) => scope.kind === 'analyst')) {
    if (rule.analyst === true) return true;
    const value = request.query[rule.analyst.query];
    if (typeof value === 'string' && rule.analyst.oneOf.includes(value)) return true;
  }
  if (rule.participant !== undefined) {
    const at = rule.participant;
    const account = 'path' in at ? request.params[at.path] : request.query[at.query];
    if (
      typeof account === 'string' &&
      scopes.some((scope) => scope.kind === 'participant' && scope.accountId === account)
    )
      return true;
  }
  return false;
}

/** Whether a route needs a credential at all. */
export function needsCredential(rule: ReadRule): boolean {
  return rule !== 'public' && rule !== 'operator-token';
}

/** Who besides operators may call a route, in words: the READMEs' table and the 403's message. */
export function describeRule(rule: ReadRule): string {
  if (rule === 'public') return 'anyone (no credential)';
  if (rule === 'operator-token') return 'the operator token (PAYOUTS_OPERATOR_TOKEN), not a read credential';
  if (rule === 'operator') return 'operator';
  if (rule === 'any-reader') return 'any credential';
  const who = ['operator'];
  if (rule.analyst === true) who.push('analyst');
  else if (rule.analyst) who.push(`analyst (${rule.analyst.query}=${rule.analyst.oneOf.join('|')})`);
  if (rule.participant)
    who.push(
      'path' in rule.participant
        ? `participant of the :${rule.participant.path} in the path`
        : `participant of the ${rule.participant.query}= it names`,
    );
  return who.join(', ');
}
