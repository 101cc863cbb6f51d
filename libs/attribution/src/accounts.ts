/**
 * The one definition of ledger accounts: the roles an account can have, how an account id is built
 * from a role and an owner, and how it is read back. Every other place (the policy, the ledger, the
 * payouts, the query API, SQL filters, configuration) takes its roles and its id format from here.
 *
 * Accounts are per role, not per person: someone who both contributes and owns a model has two
 * accounts, so statements can tell the roles apart. An id is `<role>:<ownerId>`; roles contain no
 * ':', so the text up to the first ':' always names the role even when an owner id contains ':'.
 */
export const ACCOUNT_ROLES = [
  'consumer',
  'contributor',
  'model-owner',
  'datanet-owner',
  'protocol',
  'clearing',
  'settlement',
  'other',
] as const;

export type AccountRole = (typeof ACCOUNT_ROLES)[number];

/**
 * What each role is for. Typed over every role, so a new role does not compile until someone says
 * whether decisions debit it (`payer`), credit it and payouts pay it (`earner`), or the ledger keeps
 * it for itself (`ledger`). `other` is the role of an id none of the builders makes: the ledger
 * records such postings rather than losing them, and nothing pays them.
 */
const ROLE_PURPOSES = {
  consumer: 'payer',
  contributor: 'earner',
  'model-owner': 'earner',
  'datanet-owner': 'earner',
  protocol: 'earner',
  clearing: 'ledger',
  settlement: 'ledger',
  other: 'unrecognised',
} as const satisfies Record<AccountRole, 'payer' | 'earner' | 'ledger' | 'unrecognised'>;

type RolesFor<Purpose> = { [R in AccountRole]: (typeof ROLE_PURPOSES)[R] extends Purpose ? R : never }[AccountRole];

/** The roles an attribution decision credits; the same roles are paid out. */
export type EarnerRole = RolesFor<'earner'>;
/** The roles an id can be built for: every role but `other`. */
export type NamedRole = RolesFor<'payer' | 'earner' | 'ledger'>;
/** The roles of the ledger's own accounts (in-flight payouts, money gone out through a rail). */
export type LedgerRole = RolesFor<'ledger'>;

/** Earner roles in ACCOUNT_ROLES order. */
export const EARNER_ROLES: readonly EarnerRole[] = ACCOUNT_ROLES.filter(
  (role): role is EarnerRole => ROLE_PURPOSES[role] === 'earner',
);

export function isEarnerRole(role: AccountRole): role is EarnerRole {
  return ROLE_PURPOSES[role] === 'earner';
}

/** An account id read back: its role and the owner the id names. */
export interface AccountRef<Role extends AccountRole = NamedRole> {
  readonly role: Role;
  readonly ownerId: string;
}

export const ACCOUNT_ID_SEPARATOR = ':';

/** The text every account id of a role starts with (`contributor:`), for prefix tests and SQL LIKE patterns. */
export function accountPrefix(role: NamedRole): string {
  return `${role}${ACCOUNT_ID_SEPARATOR}`;
}

/** The account id of an owner in a role: `<role>:<ownerId>`. */
export function accountId(role: NamedRole, ownerId: string): string {
  return `${role}${ACCOUNT_ID_SEPARATOR}${ownerId}`;
}

const NAMED_ROLES: ReadonlySet<string> = new Set(
  ACCOUNT_ROLES.filter((role) => ROLE_PURPOSES[role] !== 'unrecognised'),
);

/** The inverse of accountId; null for text that accountId does not produce (no role, unknown role, empty owner). */
export function parseAccount(account: string): AccountRef | null {
  const colon = account.indexOf(ACCOUNT_ID_SEPARATOR);
  if (colon <= 0 || colon === account.length - 1) return null;
  const role = account.slice(0, colon);
  if (!NAMED_ROLES.has(role)) return null;
  return { role: role as NamedRole, ownerId: account.slice(colon + 1) };
}

/**
 * The role and owner of any account id, as the ledger's accounts table records them. An id accountId
 * does not produce is kept as role `other` with the whole id as owner, so an unexpected but balanced
 * posting is still recorded and visible. The ledger's own roles accept an empty owner (`clearing:`),
 * as they always have.
 */
export function classifyAccount(account: string): AccountRef<AccountRole> {
  const ref = parseAccount(account);
  if (ref !== null) return ref;
  const colon = account.indexOf(ACCOUNT_ID_SEPARATOR);
  const role = colon > 0 ? account.slice(0, colon) : '';
  if (role === 'clearing' || role === 'settlement') return { role, ownerId: account.slice(colon + 1) };
  return { role: 'other', ownerId: account };
}

/**
 * Orders account ids by UTF-16 code units. localeCompare would depend on the machine's locale, and
 * a replay on another machine must break rounding ties the same way.
 */
export function compareIds(left: string, right: string): number {
  if (left < right) return -1;
  if (left > right) return 1;
  return 0;
}
