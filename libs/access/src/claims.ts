// How an OpenID Connect token's claims become scopes. One claim is read (ACCESS_OIDC_SCOPE_CLAIM, by
// default `tributary_scope`): a string of space-separated values or an array of strings, as issuers
// write `scope` and `roles`. Without a mapping each value is a scope itself; with one
// (ACCESS_OIDC_CLAIM_SCOPES, e.g. {"finance":["analyst"],"earner":["participant:contributor:{sub}"]}) each
// value is looked up and unmapped values grant nothing. `{sub}` in a mapped scope stands for the token's
// subject, so an issuer that knows its users as contributor ids needs one line for all of them.
import { parseScope, type Scope } from './scopes';

export type ClaimScopes = Readonly<Record<string, readonly string[]>>;

const CLAIM_VALUES_MAX = 100;

/** The values of a claim: a space-separated string or an array of strings; anything else is none. */
export function claimValues(claim: unknown): string[] {
  const values =
    typeof claim === 'string'
      ? claim.split(/\s+/)
      : Array.isArray(claim)
        ? claim.filter((value): value is string => typeof value === 'string')
        : [];
  return values.filter((value) => value !== '').slice(0, CLAIM_VALUES_MAX);
}

/**
 * The scopes a token's claims grant. Values that name no scope (or map to none) are dropped, not
 * refused: an issuer's roles claim carries roles for other applications too.
 */
export function scopesFromClaims(
  payload: Readonly<Record<string, unknown>>,
  claimName: string,
  mapping: ClaimScopes | undefined,
): Scope[] {
  const subject = typeof payload['sub'] === 'string' ? payload['sub'] : undefined;
  const texts = claimValues(payload[claimName]).flatMap((value) =>
    mapping === undefined
      ? [value]
      : Object.hasOwn(mapping, value)
        ? mapping[value]!.flatMap((scope) =>
            scope.includes('{sub}') ? (subject === undefined ? [] : [scope.replaceAll('{sub}', subject)]) : [scope],
          )
        : [],
  );
  const scopes: Scope[] = [];
  for (const text of new Set(texts)) {
    try {
      scopes.push(parseScope(text));
    } catch {
      // A value that is no scope grants nothing (see above).
    }
  }
  return scopes;
}

/** Every problem with a configured mapping, each naming the value and the rule; empty when it is sound. */
export function claimScopesProblems(mapping: unknown): string[] {
  if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping))
    return ['must be a JSON object from claim values to lists of scopes'];
  const problems: string[] = [];
  for (const [value, scopes] of Object.entries(mapping)) {
    if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) {
      problems.push(`"${value}": must be a list of scopes`);
      continue;
    }
    for (const scope of scopes) {
      try {
        // {sub} stands for a subject: checked with a placeholder of the right shape.
        parseScope(scope.replaceAll('{sub}', 'subject'));
      } catch (error) {
        problems.push(`"${value}": ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
