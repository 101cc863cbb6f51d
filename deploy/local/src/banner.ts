import { redactUrl } from '@tributary/config';
import type { LocalService } from './services';

export interface WhereToReach {
  readonly brokers: string;
  /** ` --command-config <file>` when Kafka's tools must authenticate, else empty. */
  readonly commandConfig: string;
  readonly databaseUrl: string;
  /** The schema registry's Confluent-compatible API (SCHEMA_REGISTRY_URL); absent where none runs. */
  readonly schemaRegistryUrl?: string;
  readonly services: readonly Pick<LocalService, 'name' | 'httpPort'>[];
  /** Where the payouts operator token is kept, relative to the repository. */
  readonly operatorTokenFile: string;
  /** Where the operator's read credential (dashboard, ledger API, payouts statements) is kept, likewise. */
  readonly readCredentialFile: string;
}

/**
 * What `npm start` prints once the stack is up. A terminal's output is copied into chats and tickets, so
 * it names where each secret is kept and never shows one: the database URL without its password.
 */
export function whereToReachLines(stack: WhereToReach): string[] {
  return [
    'stack is up:',
    `  Kafka        ${stack.brokers}    (npm run kafka -- cli kafka-topics --bootstrap-server ${stack.brokers}${stack.commandConfig} --list)`,
    `  PostgreSQL   ${redactUrl(stack.databaseUrl)}`,
    ...(stack.schemaRegistryUrl ? [`  schemas      ${redactUrl(stack.schemaRegistryUrl)}/subjects`] : []),
    ...stack.services.map(
      (service) => `  ${service.name.padEnd(12)} http://127.0.0.1:${service.httpPort}/health/ready`,
    ),
    `  operator token of the payouts service: in ${stack.operatorTokenFile} (not printed)`,
    `  dashboard sign-in: an operator's read credential is in ${stack.readCredentialFile} (not printed); issue others with npm run ledger-api -- credentials create --scope <operator|analyst|participant:<accountId>>`,
    'press Ctrl-C to stop everything',
  ];
}
