// Proves the pure access rules: scopes parse (and refuse with the rule), each kind of reader may call
// exactly its routes of the one table (a participant its own accounts, an analyst the aggregates, an
// operator everything), every route of the table has exactly one rule per service, and the tables in
// the ledger API's and the payouts service's READMEs say exactly what this table says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeRule, mayRead, READ_ROUTES, routeTable, type ReadService } from './read-routes';
import { formatScope, parseScope, parseScopes, type Scope } from './scopes';

const operator: Scope[] = [{ kind: 'operator' }];
const analyst: Scope[] = [{ kind: 'analyst' }];
const alice: Scope[] = [{ kind: 'participant', accountId: 'contributor:alice' }];

function allowed(service: ReadService, route: string, scopes: Scope[], params = {}, query = {}): boolean {
  const rule = routeTable(service).get(route);
  if (rule === undefined) throw new Error(`${route} is not in the table`);
  return mayRead(rule, scopes, { params, query });
}

describe('scopes', () => {
  it('parses operator, analyst and participant:<accountId>, and formats them back', () => {
    for (const text of ['operator', 'analyst', 'participant:contributor:alice', 'participant:model-owner:m.1'])
      expect(formatScope(parseScope(text))).toBe(text);
  });

  it.each([
    ['admin', 'must be operator, analyst or participant:<accountId>'],
    ['participant:', 'needs an account id <role>:<id>'],
    ['participant:alice', 'needs an account id <role>:<id>'],
    ['participant:contributor:a b', 'needs an account id <role>:<id>'],
  ])('refuses %p naming the rule', (text, rule) => {
    expect(() => parseScope(text)).toThrow(rule);
  });

  it('refuses an empty list and names every bad scope of a list', () => {
    expect(() => parseScopes([])).toThrow('scopes: must name at least one scope');
    expect(() => parseScopes(['analyst', 'root', 'boss'])).toThrow(/"root".*; scope "boss"/);
  });
});

describe('the read route table', () => {
  it('has one rule per method and path in each service', () => {
    const keys = READ_ROUTES.map((route) => `${route.service} ${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('lets a participant read its own account pages and payouts, and nothing else', () => {
    const own = { account: 'contributor:alice' };
    const other = { account: 'contributor:bob' };
    for (const path of ['', '/statement', '/contributions', '/funding']) {
      expect(allowed('ledger-api', `GET /v1/accounts/:account${path}`, alice, own)).toBe(true);
      expect(allowed('ledger-api', `GET /v1/accounts/:account${path}`, alice, other)).toBe(false);
    }
    expect(allowed('payouts', 'GET /accounts/:accountId/payouts', alice, { accountId: 'contributor:alice' })).toBe(
      true,
    );
    expect(allowed('payouts', 'GET /accounts/:accountId/payouts', alice, { accountId: 'contributor:bob' })).toBe(false);
    expect(allowed('ledger-api', 'GET /v1/payouts', alice, {}, { account: 'contributor:alice' })).toBe(true);
    expect(allowed('ledger-api', 'GET /v1/payouts', alice, {}, {})).toBe(false);
    for (const route of ['GET /v1/accounts', 'GET /v1/flow', 'GET /v1/revenue', 'GET /v1/digest', 'GET /v1/lag'])
      expect(allowed('ledger-api', route, alice, {}, { dimension: 'model' })).toBe(false);
  });

  it('lets an analyst read aggregates only: revenue per datanet or model and the flow, never a statement', () => {
    expect(allowed('ledger-api', 'GET /v1/flow', analyst)).toBe(true);
    expect(allowed('ledger-api', 'GET /v1/revenue', analyst, {}, { dimension: 'datanet' })).toBe(true);
    expect(allowed('ledger-api', 'GET /v1/revenue', analyst, {}, { dimension: 'model' })).toBe(true);
    expect(allowed('ledger-api', 'GET /v1/revenue', analyst, {}, { dimension: 'contributor' })).toBe(false);
    expect(allowed('ledger-api', 'GET /v1/revenue', analyst, {}, { dimension: ['model', 'contributor'] })).toBe(false);
    for (const route of [
      'GET /v1/accounts/:account/statement',
      'GET /v1/accounts/:account',
      'GET /v1/top-earners',
      'GET /v1/inferences/:inferenceId',
    ])
      expect(allowed('ledger-api', route, analyst, { account: 'contributor:alice' })).toBe(false);
    expect(allowed('payouts', 'GET /accounts/:accountId/payouts', analyst, { accountId: 'contributor:alice' })).toBe(
      false,
    );
  });

  it('lets an operator read every route that takes a read credential', () => {
    for (const route of READ_ROUTES) expect(mayRead(route.rule, operator, { params: {}, query: {} })).toBe(true);
  });

  it('describes each rule in words for the READMEs and the 403', () => {
    expect(describeRule(routeTable('ledger-api').get('GET /v1/revenue')!)).toBe(
      'operator, analyst (dimension=datanet|model)',
    );
    expect(describeRule(routeTable('payouts').get('GET /accounts/:accountId/payouts')!)).toBe(
      'operator, participant of the :accountId in the path',
    );
  });
});

describe("the READMEs' access tables", () => {
  /** The rows `| route | who |` of the README's table under "who may call it", unescaped. */
  function documented(service: ReadService): string[][] {
    const readme = readFileSync(path.join(__dirname, '../../../services', service, 'README.md'), 'utf8');
    const lines = readme.split('\n');
    const start = lines.findIndex((line) => /^\| route +\| who may call it +\|$/.test(line));
    expect(start).toBeGreaterThanOrEqual(0);
    const rows: string[][] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(
        line
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((cell) => cell.trim().replace(/\\\|/g, '|')),
      );
    }
    return rows;
  }

  it.each(['ledger-api', 'payouts'] as const)('%s: one row per route, with its rule in words', (service) => {
    expect(documented(service)).toEqual(
      READ_ROUTES.filter((route) => route.service === service).map((route) => [
        `\`${route.method} ${route.path}\``,
        describeRule(route.rule),
      ]),
    );
  });
});
