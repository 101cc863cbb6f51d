// Proves the registry client retries only connection failures, timeouts and 5xx, never a 4xx; that its
// errors name the request; and that registration sets each subject's level before its versions, oldest
// first, and returns fingerprint -> id, by running it against a scripted fetch.
import { SchemaRegistryClient, SchemaRegistryError, registerEventSchemas } from './client';
import { registrationPlan, type PlannedSubject } from './plan';

type Step = { status: number; body?: unknown } | Error;

/** A fetch that answers from a script, recording each request. */
function scriptedFetch(steps: Step[]) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    calls.push({
      method: init.method ?? 'GET',
      url,
      body: init.body === undefined ? undefined : JSON.parse(init.body as string),
    });
    const step = steps.shift();
    if (step === undefined) throw new Error('script exhausted');
    if (step instanceof Error) throw step;
    return new Response(step.body === undefined ? '' : JSON.stringify(step.body), { status: step.status });
  }) as unknown as typeof fetch;
  return { fetchFn, calls };
}

const connectionRefused = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
const options = (fetchFn: typeof fetch) => ({ fetch: fetchFn, retries: 2, retryDelayMs: 1 });

describe('SchemaRegistryClient', () => {
  it('retries a refused connection and a 503, then succeeds', async () => {
    const { fetchFn, calls } = scriptedFetch([
      connectionRefused(),
      { status: 503, body: { message: 'busy' } },
      { status: 200, body: { id: 4 } },
    ]);
    const client = new SchemaRegistryClient('http://registry/apis/ccompat/v7/', options(fetchFn));
    await expect(client.register('a.B', '"int"')).resolves.toBe(4);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({
      method: 'POST',
      url: 'http://registry/apis/ccompat/v7/subjects/a.B/versions',
      body: { schema: '"int"', schemaType: 'AVRO' },
    });
  });

  it('gives up after its retries with the request and the reason', async () => {
    const { fetchFn, calls } = scriptedFetch([connectionRefused(), connectionRefused(), connectionRefused()]);
    const client = new SchemaRegistryClient('http://registry:1', options(fetchFn));
    await expect(client.subjects()).rejects.toThrow(
      'schema registry GET /subjects: could not reach http://registry:1 (ECONNREFUSED)',
    );
    expect(calls).toHaveLength(3);
  });

  it.each([400, 404, 409, 422])('does not retry a %i, and says what the registry said', async (status) => {
    const { fetchFn, calls } = scriptedFetch([{ status, body: { error_code: status, message: 'no such thing' } }]);
    const client = new SchemaRegistryClient('http://registry', options(fetchFn));
    const error = (await client.schemaById(3).catch((e: unknown) => e)) as SchemaRegistryError;
    expect(error).toBeInstanceOf(SchemaRegistryError);
    expect(error.status).toBe(status);
    expect(error.message).toBe(`schema registry GET /schemas/ids/3: HTTP ${status}: no such thing`);
    expect(calls).toHaveLength(1);
  });

  it('times out a request that does not answer, and retries it', async () => {
    let attempts = 0;
    const fetchFn = ((_url: string, init: RequestInit) => {
      attempts++;
      return new Promise((_resolve, reject) =>
        init.signal!.addEventListener('abort', () => reject(init.signal!.reason as Error)),
      );
    }) as unknown as typeof fetch;
    const client = new SchemaRegistryClient('http://registry', {
      fetch: fetchFn,
      timeoutMs: 20,
      retries: 1,
      retryDelayMs: 1,
    });
    await expect(client.versions('a.B')).rejects.toThrow(
      'schema registry GET /subjects/a.B/versions: no answer within 20 ms',
    );
    expect(attempts).toBe(2);
  });

  it('encodes the subject in the path', async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 200, body: { compatibilityLevel: 'FULL' } }]);
    await new SchemaRegistryClient('http://registry', options(fetchFn)).compatibility('a/b c');
    expect(calls[0]!.url).toBe('http://registry/config/a%2Fb%20c');
  });
});

describe('registerEventSchemas', () => {
  const plan: PlannedSubject[] = [
    {
      subject: 'a.A',
      eventType: 'A',
      versions: [
        { version: 1, fingerprint: 'f1', schemaText: 's1' },
        { version: 2, fingerprint: 'f2', schemaText: 's2' },
      ],
    },
    { subject: 'b.B', eventType: 'B', versions: [{ version: 1, fingerprint: 'f3', schemaText: 's3' }] },
  ];

  it('sets FULL on each subject before its versions, registers oldest first and maps fingerprints to ids', async () => {
    const { fetchFn, calls } = scriptedFetch([
      { status: 200, body: { compatibility: 'FULL' } },
      { status: 200, body: { id: 11 } },
      { status: 200, body: { id: 12 } },
      { status: 200, body: { compatibility: 'FULL' } },
      { status: 200, body: { id: 11 } },
    ]);
    const ids = await registerEventSchemas('http://registry', { ...options(fetchFn), plan });
    expect([...ids]).toEqual([
      ['f1', 11],
      ['f2', 12],
      ['f3', 11],
    ]);
    expect(
      calls.map((call) => `${call.method} ${call.url.replace('http://registry', '')} ${JSON.stringify(call.body)}`),
    ).toEqual([
      'PUT /config/a.A {"compatibility":"FULL"}',
      'POST /subjects/a.A/versions {"schema":"s1","schemaType":"AVRO"}',
      'POST /subjects/a.A/versions {"schema":"s2","schemaType":"AVRO"}',
      'PUT /config/b.B {"compatibility":"FULL"}',
      'POST /subjects/b.B/versions {"schema":"s3","schemaType":"AVRO"}',
    ]);
  });

  it('says which event version the registry refused as incompatible', async () => {
    const { fetchFn } = scriptedFetch([
      { status: 200, body: { compatibility: 'FULL' } },
      { status: 200, body: { id: 11 } },
      { status: 409, body: { error_code: 409, message: 'Incompatible artifact' } },
    ]);
    await expect(registerEventSchemas('http://registry', { ...options(fetchFn), plan })).rejects.toThrow(
      /A v2 refused as incompatible with the version before it under FULL .*Incompatible artifact/,
    );
  });

  it('plans every schema of the catalog by default', () => {
    expect(registrationPlan().flatMap((subject) => subject.versions).length).toBeGreaterThan(0);
  });
});
