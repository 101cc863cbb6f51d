import * as fs from 'node:fs';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Secret, kafkaSecurityOptions, principalName } from '@tributary/config';
import {
  AccessRuleError,
  OPERATOR_PRINCIPAL,
  SERVICE_PRINCIPALS,
  analyticsPrincipal,
  catalogFor,
  producerPrincipal,
  servicePrincipals,
  type PrincipalSpec,
} from '@tributary/contracts';
import { applyAcls, describePrincipalAcls, revokeAllAcls, type AclRow, type AppliedAcls } from './acls';
import { kafkaStatus, operatorSecurity, readRunningMode } from './broker';
import {
  alterScramCredentials,
  credentialFiles,
  newPassword,
  operatorConnection,
  removePassword,
  writePassword,
} from './credentials';
import { ProvisionError } from './errors';

/**
 * The operator's commands on a local broker's principals: onboarding a direct producer or an analytics
 * team, rotating a password, offboarding, listing who may do what. Each runs as the operator. A new
 * password is returned once to the caller (the CLI prints it once, or writes it to a file the operator
 * names) and never logged; only the services' own passwords stay in the cache, since the local stack
 * hands them to its processes by file.
 */
const RESERVED = new Set<string>([OPERATOR_PRINCIPAL, ...SERVICE_PRINCIPALS]);

export interface IssuedCredential {
  readonly principal: string;
  readonly password: Secret;
  readonly acls: AppliedAcls;
}

/** A running local broker's client address; a cluster's running nodes, comma separated. */
export function runningBroker(name: string): string {
  const broker = kafkaStatus().find((status) => status.name === name);
  if (!broker?.brokers)
    throw new ProvisionError(`Kafka '${name}' is not running`, `start it: \`npm run kafka -- start --name ${name}\``);
  return broker.brokers;
}

export async function withOperatorAdmin<T>(name: string, use: (admin: Admin) => Promise<T>): Promise<T> {
  const brokers = runningBroker(name);
  const { dataDir } = credentialFiles(name);
  const security = operatorSecurity({ security: readRunningMode(dataDir), dataDir });
  if (security.mode === 'plaintext') {
    throw new ProvisionError(
      `Kafka '${name}' runs without security: it has no principals or ACLs`,
      'restart it without KAFKA_SECURITY=plaintext',
    );
  }
  const admin = new Kafka({
    clientId: 'tributary-operator',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    ...kafkaSecurityOptions(security),
  }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Renders the services' grants for a topic prefix to the broker; idempotent. */
export async function applyServiceAcls(
  name: string,
  topicPrefix = '',
  options: { prune?: boolean } = {},
): Promise<AppliedAcls> {
  return withOperatorAdmin(name, (admin) => applyAcls(admin, servicePrincipals(catalogFor(topicPrefix)), options));
}

function assertNewPrincipal(principal: string): void {
  const parsed = principalName.safeParse(principal);
  if (!parsed.success)
    throw new ProvisionError(`principal '${principal}': ${parsed.error.issues[0]?.message}`, 'choose another name');
  if (RESERVED.has(principal))
    throw new ProvisionError(
      `principal '${principal}' is reserved for ${principal === OPERATOR_PRINCIPAL ? 'the operator' : 'a service'}`,
      'choose another name',
    );
}

function specOrRefusal(make: () => PrincipalSpec): PrincipalSpec {
  try {
    return make();
  } catch (error) {
    if (error instanceof AccessRuleError) throw new ProvisionError(error.message, 'change the event types');
    throw error;
  }
}

async function issue(name: string, spec: PrincipalSpec): Promise<IssuedCredential> {
  assertNewPrincipal(spec.name);
  const password = new Secret(newPassword());
  await alterScramCredentials(operatorConnection(name, runningBroker(name)), [
    { kind: 'upsert', principal: spec.name, password },
  ]);
  const acls = await withOperatorAdmin(name, (admin) => applyAcls(admin, [spec]));
  return { principal: spec.name, password, acls };
}

/** A direct Kafka producer that may publish only the given event types (whole topics; see the catalog). */
export function addProducer(
  name: string,
  principal: string,
  eventTypes: readonly string[],
  topicPrefix = '',
): Promise<IssuedCredential> {
  return issue(
    name,
    specOrRefusal(() => producerPrincipal(principal, eventTypes, catalogFor(topicPrefix))),
  );
}

/** An analytics reader: reads every event topic and the schema catalog, groups under analytics.<name>. */
export function addAnalytics(name: string, principal: string, topicPrefix = ''): Promise<IssuedCredential> {
  assertNewPrincipal(principal);
  return issue(name, analyticsPrincipal(principal, catalogFor(topicPrefix)));
}

/**
 * A new password for a principal, effective at once: new connections must use it, connections already
 * authenticated stay up until they reconnect. A service's password file is rewritten too.
 */
export async function rotatePassword(name: string, principal: string): Promise<Secret> {
  const holders = await alterScramCredentials(operatorConnection(name, runningBroker(name)), []);
  if (!holders.includes(principal))
    throw new ProvisionError(
      `principal '${principal}' does not exist on Kafka '${name}'`,
      'list them with `npm run kafka -- principals list`',
    );
  const password = new Secret(newPassword());
  await alterScramCredentials(operatorConnection(name, runningBroker(name)), [{ kind: 'upsert', principal, password }]);
  if (fs.existsSync(credentialFiles(name).passwordFile(principal))) writePassword(name, principal, password.reveal());
  return password;
}

/** Offboarding: the credential and every ACL of the principal go. The operator cannot be revoked. */
export async function revokePrincipal(name: string, principal: string): Promise<{ aclsDeleted: number }> {
  if (principal === OPERATOR_PRINCIPAL)
    throw new ProvisionError('the operator principal cannot be revoked', 'rotate its password instead');
  const holders = await alterScramCredentials(operatorConnection(name, runningBroker(name)), []);
  if (holders.includes(principal))
    await alterScramCredentials(operatorConnection(name, runningBroker(name)), [{ kind: 'delete', principal }]);
  const aclsDeleted = await withOperatorAdmin(name, (admin) => revokeAllAcls(admin, principal));
  removePassword(name, principal);
  return { aclsDeleted };
}

/** Every principal with a credential, and the ACLs each holds. */
export async function listPrincipals(name: string): Promise<Array<{ principal: string; acls: AclRow[] }>> {
  const holders = await alterScramCredentials(operatorConnection(name, runningBroker(name)), []);
  return withOperatorAdmin(name, (admin) =>
    Promise.all(holders.map(async (principal) => ({ principal, acls: await describePrincipalAcls(admin, principal) }))),
  );
}
