// Who may read what (pure rules: scopes, the route table, claims to scopes) and how a bearer becomes a
// reader (read credentials in PostgreSQL, OIDC tokens against a JWKS). Services add a thin guard.
export { FailedLookupBudget, SharedLookups, UnknownKeyMemory } from './failed-lookups';
export { SecretKeyFormat, hashSecretKey, KEY_ID, type NewSecretKey } from './secret-keys';
export { parseScope, parseScopes, formatScope, describeScopes, SCOPES_MAX, type Scope } from './scopes';
export {
  READ_ROUTES,
  routeTable,
  mayRead,
  needsCredential,
  describeRule,
  type ReadRoute,
  type ReadRule,
  type ReadService,
  type AccountAt,
  type RequestFacts,
} from './read-routes';
export { claimValues, scopesFromClaims, claimScopesProblems, type ClaimScopes } from './claims';
export { OidcVerifier, looksLikeJwt, type OidcSettings, type OidcOutcome } from './oidc';
export { accessEnv, OIDC_ALGORITHMS, type AccessSettings } from './access-env';
export {
  ACCESS_SCHEMA,
  CREDENTIALS_TABLE,
  READ_CREDENTIALS,
  LABEL_MAX,
  ensureCredentialTable,
  createCredential,
  revokeCredential,
  listCredentials,
  findLiveCredential,
  type Sql,
  type CredentialSummary,
} from './credential-store';
export {
  ReaderAuthenticator,
  ReadAccess,
  type Reader,
  type Authentication,
  type ReadRequest,
  type ReadDecision,
} from './read-access';
export { admitHttpRead, type ReadRefusal } from './http-read-gate';
