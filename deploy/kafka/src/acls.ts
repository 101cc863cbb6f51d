import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type Admin,
  type AclEntry,
  type AclFilter,
} from 'kafkajs';
import type { AclGrant, AclOperation, AclPatternType, AclResourceType, PrincipalSpec } from '@tributary/contracts';

/**
 * Renders the access catalog (libs/contracts/src/access.ts) to the broker's ACLs through the Admin
 * API. Applying is idempotent: an ACL that exists is left alone, a missing one is created. What the
 * broker holds beyond the catalog is reported, and removed only when asked (`prune`), since a principal
 * may hold grants for several topic prefixes of one cluster.
 */
const RESOURCE_TYPES: Record<AclResourceType, AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  'transactional-id': AclResourceTypes.TRANSACTIONAL_ID,
};
const PATTERN_TYPES: Record<AclPatternType, ResourcePatternTypes> = {
  literal: ResourcePatternTypes.LITERAL,
  prefixed: ResourcePatternTypes.PREFIXED,
};
const OPERATIONS: Record<AclOperation, AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  describe: AclOperationTypes.DESCRIBE,
  'describe-configs': AclOperationTypes.DESCRIBE_CONFIGS,
};
const ANY_HOST = '*';

/** One ACL as the catalog sees it, with a stable key to compare the broker's against. */
export interface AclRow {
  readonly principal: string;
  /** An AclResourceType, or the broker's name for a type the catalog does not know. */
  readonly resourceType: string;
  /** An AclPatternType, or the broker's name for one the catalog does not know. */
  readonly pattern: string;
  readonly name: string;
  /** An AclOperation, or the broker's name for one the catalog does not know. */
  readonly operation: string;
}

export const aclKey = (row: AclRow): string =>
  `${row.principal}|${row.resourceType}|${row.pattern}|${row.name}|${row.operation}`;

export function catalogRows(principal: PrincipalSpec): AclRow[] {
  return principal.grants.flatMap((grant: AclGrant) =>
    grant.operations.map((operation) => ({
      principal: principal.name,
      resourceType: grant.resourceType,
      pattern: grant.pattern,
      name: grant.name,
      operation,
    })),
  );
}

function toEntry(row: AclRow): AclEntry {
  return {
    principal: `User:${row.principal}`,
    host: ANY_HOST,
    permissionType: AclPermissionTypes.ALLOW,
    operation: OPERATIONS[row.operation as AclOperation],
    resourceType: RESOURCE_TYPES[row.resourceType as AclResourceType],
    resourceName: row.name,
    resourcePatternType: PATTERN_TYPES[row.pattern as AclPatternType],
  };
}

const nameOf = <T extends number>(table: Record<string, T>, value: number): string =>
  Object.entries(table).find(([, candidate]) => candidate === value)?.[0] ?? `unknown(${value})`;

/** Every ACL the broker holds for a principal, in the catalog's words. */
export async function describePrincipalAcls(admin: Admin, principal: string): Promise<AclRow[]> {
  const filter: AclFilter = {
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal: `User:${principal}`,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  };
  const described = await admin.describeAcls(filter);
  return described.resources.flatMap((resource) =>
    resource.acls.map((acl) => ({
      principal,
      resourceType: nameOf(RESOURCE_TYPES, resource.resourceType),
      pattern: nameOf(PATTERN_TYPES, resource.resourcePatternType),
      name: resource.resourceName,
      operation: nameOf(OPERATIONS, acl.operation),
    })),
  );
}

export interface AppliedAcls {
  readonly created: AclRow[];
  /** Held by the broker for these principals but not in the catalog (deleted when pruning). */
  readonly extra: AclRow[];
}

/** Makes the broker hold at least the catalog's ACLs for these principals; with `prune`, exactly them. */
export async function applyAcls(
  admin: Admin,
  principals: readonly PrincipalSpec[],
  options: { prune?: boolean } = {},
): Promise<AppliedAcls> {
  const wanted = principals.flatMap(catalogRows);
  const held = (await Promise.all(principals.map((principal) => describePrincipalAcls(admin, principal.name)))).flat();
  const heldKeys = new Set(held.map(aclKey));
  const wantedKeys = new Set(wanted.map(aclKey));
  const created = wanted.filter((row) => !heldKeys.has(aclKey(row)));
  const extra = held.filter((row) => !wantedKeys.has(aclKey(row)));
  if (created.length > 0) await admin.createAcls({ acl: created.map(toEntry) });
  if (options.prune && extra.length > 0) await deleteAcls(admin, extra);
  return { created, extra };
}

/** Deletes exactly these ACLs (each filter matches one). */
export async function deleteAcls(admin: Admin, rows: readonly AclRow[]): Promise<void> {
  const known = rows.filter(
    (row) => row.operation in OPERATIONS && row.resourceType in RESOURCE_TYPES && row.pattern in PATTERN_TYPES,
  );
  if (known.length === 0) return;
  await admin.deleteAcls({ filters: known.map(toEntry) });
}

/** Removes every ACL of a principal, whatever it is (offboarding). */
export async function revokeAllAcls(admin: Admin, principal: string): Promise<number> {
  const response = await admin.deleteAcls({
    filters: [
      {
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: `User:${principal}`,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    ],
  });
  return response.filterResponses.reduce((count, filter) => count + filter.matchingAcls.length, 0);
}

export function formatAclRow(row: AclRow): string {
  return `${row.operation.toUpperCase().padEnd(8)} ${row.resourceType}${row.pattern === 'prefixed' ? ' (prefix)' : ''} ${row.name}`;
}
