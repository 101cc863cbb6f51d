import type { ZodError } from 'zod';

/** A configuration value from outside (environment, CLI flag) that breaks a rule; bootstrap stops on it. */
export class ConfigError extends Error {
  constructor(
    readonly namespace: string,
    readonly problems: ReadonlyArray<{ field: string; rule: string }>,
  ) {
    super(`invalid ${namespace} configuration: ${problems.map((p) => `${p.field}: ${p.rule}`).join('; ')}`);
    this.name = 'ConfigError';
  }

  static fromZod(namespace: string, error: ZodError): ConfigError {
    return new ConfigError(
      namespace,
      error.issues.map((issue) => ({ field: issue.path.join('.') || '(root)', rule: issue.message })),
    );
  }
}
