// JWTs from an organisation's OpenID Connect issuer, verified with jose against the issuer's JWKS: the
// signature (by a key the JWKS publishes, with an allowed algorithm: never `none` or a shared secret),
// the issuer, the audience, exp and nbf (with a small clock tolerance). The keys are fetched on first
// use and again when a token names a key id not seen yet (at most once per cooldown), so a rotation at
// the issuer needs nothing here.
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { scopesFromClaims, type ClaimScopes } from './claims';
import type { Scope } from './scopes';

export interface OidcSettings {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly scopeClaim: string;
  readonly claimScopes: ClaimScopes | undefined;
  readonly clockToleranceS: number;
  readonly jwksTimeoutMs: number;
}

export type OidcOutcome =
  | { readonly valid: true; readonly subject: string; readonly scopes: Scope[] }
  | { readonly valid: false; readonly reason: string };

/** Three base64url parts: the shape of a JWS compact serialisation. Anything else is not tried as a JWT. */
export function looksLikeJwt(token: string): boolean {
  return token.length <= 16_384 && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/** Reasons a token is refused that say nothing about the issuer's availability. */
const REFUSALS: ReadonlySet<string> = new Set([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKInvalid.code,
]);

export class OidcVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly settings: OidcSettings) {
    this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: settings.jwksTimeoutMs });
  }

  /** The token's subject and scopes, or why it is refused; throws when the issuer's keys cannot be fetched. */
  async verify(token: string): Promise<OidcOutcome> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: [...this.settings.algorithms],
        clockTolerance: this.settings.clockToleranceS,
        requiredClaims: ['exp', 'sub'],
      });
      return {
        valid: true,
        subject: payload.sub!,
        scopes: scopesFromClaims(payload, this.settings.scopeClaim, this.settings.claimScopes),
      };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && REFUSALS.has(code))
        return { valid: false, reason: reasonOf(error as Error, code) };
      throw error;
    }
  }
}

/** A short reason for the 401, from jose's error: which claim failed, or that the signature did. */
function reasonOf(error: Error, code: string): string {
  if (code === errors.JWTExpired.code) return 'the token has expired';
  if (code === errors.JWTClaimValidationFailed.code)
    return `claim ${(error as errors.JWTClaimValidationFailed).claim}: ${(error as errors.JWTClaimValidationFailed).reason}`;
  if (code === errors.JOSEAlgNotAllowed.code) return 'the token is signed with an algorithm not allowed';
  return 'the token is not signed by the issuer';
}
