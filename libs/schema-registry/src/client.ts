// A small client for the Confluent-compatible API of a schema registry (Apicurio's /apis/ccompat/v7):
// Node's fetch, a timeout on every request, retries only where trying again can help (the connection
// failed, timed out, or the registry answered 5xx), and errors that say which request failed and why.
import {
  COMPATIBILITY_LEVEL,
  REGISTRY_CONTENT_TYPE,
  compatibilityBody,
  parseCompatibilityResponse,
  parseRegisterResponse,
  parseSchemaByIdResponse,
  parseSubjectVersionResponse,
  parseSubjectsResponse,
  parseVersionsResponse,
  registerSchemaBody,
  registrationPlan,
  registryErrorText,
  type PlannedSubject,
} from './plan';

export interface RegistryClientOptions {
  /** Per request; default 10 s. */
  readonly timeoutMs?: number;
  /** Attempts after the first, for connection failures, timeouts and 5xx only; default 5. */
  readonly retries?: number;
  /** The first retry's delay, doubled each time; default 200 ms. */
  readonly retryDelayMs?: number;
  /** For tests; default globalThis.fetch. */
  readonly fetch?: typeof fetch;
}

/** A request to the registry failed: the registry said no (status set) or could not be reached. */
export class SchemaRegistryError extends Error {
  override readonly name = 'SchemaRegistryError';

  constructor(
    readonly request: string,
    message: string,
    /** The HTTP status when the registry answered; undefined when it could not be reached. */
    readonly status?: number,
  ) {
    super(`schema registry ${request}: ${message}`);
  }
}

export class SchemaRegistryClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly fetchFn: typeof fetch;

  /** `baseUrl`: the Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7 (SCHEMA_REGISTRY_URL). */
  constructor(baseUrl: string, opts: RegistryClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = opts.retries ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.fetchFn = opts.fetch ?? globalThis.fetch;
  }

  /** Registers the schema under the subject; the registry returns the existing id when it is there already. */
  async register(subject: string, schemaText: string): Promise<number> {
    const request = `POST /subjects/${subject}/versions`;
    return parseRegisterResponse(
      request,
      await this.call('POST', `/subjects/${enc(subject)}/versions`, registerSchemaBody(schemaText), request),
    );
  }

  async setCompatibility(subject: string, level: string = COMPATIBILITY_LEVEL): Promise<string> {
    const request = `PUT /config/${subject}`;
    return parseCompatibilityResponse(
      request,
      await this.call('PUT', `/config/${enc(subject)}`, compatibilityBody(level), request),
    );
  }

  async compatibility(subject: string): Promise<string> {
    const request = `GET /config/${subject}`;
    return parseCompatibilityResponse(request, await this.call('GET', `/config/${enc(subject)}`, undefined, request));
  }

  async schemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    const request = `GET /schemas/ids/${id}`;
    return parseSchemaByIdResponse(request, await this.call('GET', `/schemas/ids/${id}`, undefined, request));
  }

  async subjects(): Promise<string[]> {
    return parseSubjectsResponse('GET /subjects', await this.call('GET', '/subjects', undefined, 'GET /subjects'));
  }

  async versions(subject: string): Promise<number[]> {
    const request = `GET /subjects/${subject}/versions`;
    return parseVersionsResponse(
      request,
      await this.call('GET', `/subjects/${enc(subject)}/versions`, undefined, request),
    );
  }

  async version(
    subject: string,
    version: number,
  ): Promise<{ subject: string; version: number; id: number; schema: string }> {
    const request = `GET /subjects/${subject}/versions/${version}`;
    return parseSubjectVersionResponse(
      request,
      await this.call('GET', `/subjects/${enc(subject)}/versions/${version}`, undefined, request),
    );
  }

  private async call(method: string, path: string, body: unknown, request: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.once(method, path, body, request);
      if (outcome.ok) return outcome.body;
      if (!outcome.retryable || attempt >= this.retries) throw outcome.error;
      await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** attempt));
    }
  }

  private async once(
    method: string,
    path: string,
    body: unknown,
    request: string,
  ): Promise<{ ok: true; body: unknown } | { ok: false; retryable: boolean; error: SchemaRegistryError }> {
    let response: Response;
    try {
      response = await this.fetchFn(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: REGISTRY_CONTENT_TYPE,
          ...(body === undefined ? {} : { 'content-type': REGISTRY_CONTENT_TYPE }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = timedOut
        ? `no answer within ${this.timeoutMs} ms`
        : `could not reach ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message})`;
      return { ok: false, retryable: true, error: new SchemaRegistryError(request, reason) };
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (response.ok) return { ok: true, body: parsed };
    return {
      ok: false,
      retryable: response.status >= 500,
      error: new SchemaRegistryError(request, `HTTP ${response.status}: ${registryErrorText(parsed)}`, response.status),
    };
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/**
 * Registers every version of every event schema (see registrationPlan): per subject, the compatibility
 * level first (so the registry checks each version against the one before, as the project's checker
 * did in CI), then each version oldest to newest. Idempotent: a schema already registered keeps its id.
 * Returns the registry id of each schema by its SHA-256 fingerprint (the catalog's key).
 */
export async function registerEventSchemas(
  baseUrl: string,
  opts: RegistryClientOptions & { plan?: readonly PlannedSubject[] } = {},
): Promise<Map<string, number>> {
  const client = new SchemaRegistryClient(baseUrl, opts);
  const ids = new Map<string, number>();
  for (const subject of opts.plan ?? registrationPlan()) {
    await client.setCompatibility(subject.subject);
    for (const version of subject.versions) {
      try {
        ids.set(version.fingerprint, await client.register(subject.subject, version.schemaText));
      } catch (error) {
        if (error instanceof SchemaRegistryError && error.status === 409)
          throw new SchemaRegistryError(
            error.request,
            `${subject.eventType} v${version.version} refused as incompatible with the version before it under ${COMPATIBILITY_LEVEL} (${error.message}); the project's checker should have refused it first: run the contracts unit tests`,
            409,
          );
        throw error;
      }
    }
  }
  return ids;
}
