import { z } from 'zod';
import { boundedInt, parseEnv } from '@tributary/config';
import { claimScopesProblems, type ClaimScopes } from './claims';
import type { OidcSettings } from './oidc';

/** Asymmetric algorithms only: a shared-secret (HS*) or `none` token could be made by anyone holding the JWKS. */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** https, or http on a loopback address only (a test issuer, an issuer proxied on the same host). */
const issuerUrl = z
  .string()
  .trim()
  .refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return (
        url.protocol === 'https:' ||
        (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      );
    },
    { message: 'must be an https:// URL (http:// only on 127.0.0.1 or localhost)' },
  );

const accessSchema = z
  .object({
    /** How long a looked-up credential is trusted without asking the database: a revoked one is refused within it. */
    ACCESS_CACHE_TTL_MS: boundedInt(0, 600_000, 10_000),
    /** How long a credential a look-up did not find is refused without asking the database again. */
    ACCESS_UNKNOWN_CACHE_TTL_MS: boundedInt(0, 3_600_000, 60_000),
    /** Look-ups that find no credential allowed per client address and window; past it, 429 without a look-up. */
    ACCESS_FAILURES_PER_ADDRESS: boundedInt(1, 1_000_000, 20),
    ACCESS_FAILURE_WINDOW_MS: boundedInt(1_000, 3_600_000, 60_000),
    ACCESS_OIDC_ISSUER: issuerUrl.optional(),
    ACCESS_OIDC_JWKS_URL: issuerUrl.optional(),
    ACCESS_OIDC_AUDIENCE: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(512, 'must be at most 512 characters')
      .optional(),
    ACCESS_OIDC_SCOPE_CLAIM: z
      .string()
      .trim()
      .regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/, 'must be a claim name (letters, digits, _ . : -)')
      .default('tributary_scope'),
    ACCESS_OIDC_CLAIM_SCOPES: z
      .string()
      .max(65_536, 'must be at most 65536 characters')
      .transform((text, context) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          context.addIssue({ code: 'custom', message: 'must be JSON' });
          return z.NEVER;
        }
        const problems = claimScopesProblems(parsed);
        if (problems.length > 0) {
          context.addIssue({ code: 'custom', message: problems.join('; ') });
          return z.NEVER;
        }
        return parsed as ClaimScopes;
      })
      .optional(),
    ACCESS_OIDC_ALGORITHMS: z
      .string()
      .trim()
      .transform((text) => text.split(',').map((item) => item.trim()))
      .refine((list) => list.length > 0 && list.every((item) => OIDC_ALGORITHMS.includes(item)), {
        message: `must be a comma-separated list of ${OIDC_ALGORITHMS.join(', ')}`,
      })
      .default(['RS256', 'ES256']),
    ACCESS_OIDC_CLOCK_TOLERANCE_S: boundedInt(0, 300, 30),
    ACCESS_OIDC_JWKS_TIMEOUT_MS: boundedInt(100, 60_000, 5_000),
  })
  .superRefine((env, context) => {
    const issuerSet = env.ACCESS_OIDC_ISSUER !== undefined;
    for (const name of ['ACCESS_OIDC_JWKS_URL', 'ACCESS_OIDC_AUDIENCE'] as const) {
      if (issuerSet && env[name] === undefined)
        context.addIssue({ code: 'custom', path: [name], message: 'is required when ACCESS_OIDC_ISSUER is set' });
      if (!issuerSet && env[name] !== undefined)
        context.addIssue({ code: 'custom', path: [name], message: 'needs ACCESS_OIDC_ISSUER' });
    }
  });

export interface AccessSettings {
  readonly cacheTtlMs: number;
  readonly unknownCacheTtlMs: number;
  readonly failuresPerAddress: number;
  readonly failureWindowMs: number;
  /** Undefined when no issuer is configured: JWTs are then refused like any unknown credential. */
  readonly oidc: OidcSettings | undefined;
}

/** The read credentials' settings, the same variables in every service that checks them, validated. */
export function accessEnv(env: NodeJS.ProcessEnv = process.env, namespace = 'access'): AccessSettings {
  const parsed = parseEnv(namespace, accessSchema, env);
  return {
    cacheTtlMs: parsed.ACCESS_CACHE_TTL_MS,
    unknownCacheTtlMs: parsed.ACCESS_UNKNOWN_CACHE_TTL_MS,
    failuresPerAddress: parsed.ACCESS_FAILURES_PER_ADDRESS,
    failureWindowMs: parsed.ACCESS_FAILURE_WINDOW_MS,
    oidc:
      parsed.ACCESS_OIDC_ISSUER === undefined
        ? undefined
        : {
            issuer: parsed.ACCESS_OIDC_ISSUER,
            jwksUrl: parsed.ACCESS_OIDC_JWKS_URL!,
            audience: parsed.ACCESS_OIDC_AUDIENCE!,
            algorithms: parsed.ACCESS_OIDC_ALGORITHMS,
            scopeClaim: parsed.ACCESS_OIDC_SCOPE_CLAIM,
            claimScopes: parsed.ACCESS_OIDC_CLAIM_SCOPES,
            clockToleranceS: parsed.ACCESS_OIDC_CLOCK_TOLERANCE_S,
            jwksTimeoutMs: parsed.ACCESS_OIDC_JWKS_TIMEOUT_MS,
          },
  };
}
