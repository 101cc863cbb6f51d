// The scopes a reader of the ledger API and the payouts statements may hold. A credential carries one or
// more of them as text, the way the operator types them and an OIDC claim maps to them:
//   operator                     everything, the operational status included (digest, lag, DLQs)
//   analyst                      aggregates only: revenue per datanet and model, the flow of value
//   participant:<accountId>      that account only: its balance, statement, lineage, funding, payouts
// A participant owning several accounts (a contributor who also owns a model) holds one scope per account.

export type Scope =
  | { readonly kind: 'operator' }
  | { readonly kind: 'analyst' }
  | { readonly kind: 'participant'; readonly accountId: string };

/** Account ids are `<role>:<id>` (libs/attribution): printable, no spaces or commas so a scope list splits cleanly. */
const ACCOUNT_ID = /^[a-z-]{1,32}:[^\s,\u0000-\u001f\u007f]{1,256}$/;
export const SCOPES_MAX = 100;

/** The scope a text names, or a RangeError naming the rule it broke. */
export function parseScope(text: string): Scope {
  if (text === 'operator' || text === 'analyst') return { kind: text };
  if (text.startsWith('participant:')) {
    const accountId = text.slice('participant:'.length);
    if (ACCOUNT_ID.test(accountId)) return { kind: 'participant', accountId };
    throw new RangeError(
      `scope "${printable(text)}": participant:<accountId> needs an account id <role>:<id> (e.g. participant:contributor:alice)`,
    );
  }
  throw new RangeError(`scope "${printable(text)}": must be operator, analyst or participant:<accountId>`);
}

/** Every scope of a list, or a RangeError naming each that broke its rule; at least one, at most SCOPES_MAX. */
export function parseScopes(texts: readonly string[]): Scope[] {
  if (texts.length === 0) throw new RangeError('scopes: must name at least one scope');
  if (texts.length > SCOPES_MAX) throw new RangeError(`scopes: at most ${SCOPES_MAX}`);
  const problems: string[] = [];
  const scopes: Scope[] = [];
  for (const text of texts) {
    try {
      scopes.push(parseScope(text));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return scopes;
}

export function formatScope(scope: Scope): string {
  return scope.kind === 'participant' ? `participant:${scope.accountId}` : scope.kind;
}

/** What a reader holding these scopes is, for the dashboard: its kind and the accounts it owns. */
export function describeScopes(scopes: readonly Scope[]): {
  readonly operator: boolean;
  readonly analyst: boolean;
  readonly accounts: string[];
} {
  return {
    operator: scopes.some((scope) => scope.kind === 'operator'),
    analyst: scopes.some((scope) => scope.kind === 'analyst'),
    accounts: scopes.flatMap((scope) => (scope.kind === 'participant' ? [scope.accountId] : [])),
  };
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
