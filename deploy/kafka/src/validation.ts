import { PORT_MAX, PORT_MIN } from './config';
import { ProvisionError } from './errors';

// The rules for user-supplied values, shared by the API and the CLI so both reject the same input
// with the same words. Messages name the flag, because the CLI is where users meet them.

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function portProblem(port: number): string | undefined {
  if (Number.isInteger(port) && port >= PORT_MIN && port <= PORT_MAX) return undefined;
  return `--port must be an integer from ${PORT_MIN} to ${PORT_MAX} (the controller takes port + 1000, the inter-broker listener port + 2000), got '${port}'`;
}

export function nameProblem(name: string): string | undefined {
  if (NAME_PATTERN.test(name)) return undefined;
  return `--name must be 1-40 characters of a-z, 0-9 and '-', starting with a letter or digit, got '${name}'`;
}

export function assertValidPort(port: number): void {
  const problem = portProblem(port);
  if (problem) throw new ProvisionError(problem, 'pass a valid --port');
}

export function assertValidName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new ProvisionError(problem, 'pass a valid --name');
}
