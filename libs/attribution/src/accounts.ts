import { assertNever } from './errors';

/**
 * The one place that turns a party into a ledger account id. Accounts are per role, not per person:
 * someone who both contributes and owns a model has two accounts, so statements can tell the roles
 * apart. Kinds contain no ':', so the text up to the first ':' always names the kind even when an
 * id itself contains ':'.
 */
export type AccountRef =
  | { readonly kind: 'consumer'; readonly consumerId: string }
  | { readonly kind: 'contributor'; readonly contributorId: string }
  | { readonly kind: 'model-owner'; readonly ownerId: string }
  | { readonly kind: 'datanet-owner'; readonly ownerId: string }
  | { readonly kind: 'protocol'; readonly protocolId: string };

export type AccountKind = AccountRef['kind'];

export function accountId(ref: AccountRef): string {
  switch (ref.kind) {
    case 'consumer':
      return `consumer:${ref.consumerId}`;
    case 'contributor':
      return `contributor:${ref.contributorId}`;
    case 'model-owner':
      return `model-owner:${ref.ownerId}`;
    case 'datanet-owner':
      return `datanet-owner:${ref.ownerId}`;
    case 'protocol':
      return `protocol:${ref.protocolId}`;
    default:
      return assertNever(ref);
  }
}

/** The inverse of accountId; null for text that no AccountRef produces. */
export function parseAccountId(account: string): AccountRef | null {
  const colon = account.indexOf(':');
  if (colon <= 0 || colon === account.length - 1) return null;
  const kind = account.slice(0, colon);
  const id = account.slice(colon + 1);
  switch (kind) {
    case 'consumer':
      return { kind, consumerId: id };
    case 'contributor':
      return { kind, contributorId: id };
    case 'model-owner':
      return { kind, ownerId: id };
    case 'datanet-owner':
      return { kind, ownerId: id };
    case 'protocol':
      return { kind, protocolId: id };
    default:
      return null;
  }
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
