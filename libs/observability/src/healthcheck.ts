// The image's health check: asks the service in the same container for GET /health/ready on 127.0.0.1 at
// HEALTH_PORT, and exits 0 when it answers 2xx, 1 otherwise (Docker's contract). It is compiled with the services
// and run with plain node (`node dist/libs/observability/src/healthcheck.js`). It imports nothing but Node's own
// modules: it runs every few seconds beside the service, so it should cost one short process and no more.

/** The variable naming the port to ask; each service's own port variable differs, compose and the image set this. */
export const HEALTH_PORT_VARIABLE = 'HEALTH_PORT';
/** Under Docker's own timeout for the check (5 s in the Dockerfile and compose), so the reason gets printed. */
export const HEALTH_TIMEOUT_MS = 4_000;

/** HEALTH_PORT as a TCP port; an error naming the variable and the rule when it is missing or not one. */
export function healthPort(env: NodeJS.ProcessEnv): number {
  const raw = env[HEALTH_PORT_VARIABLE];
  const port = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || port < 1 || port > 65_535) {
    throw new RangeError(
      `${HEALTH_PORT_VARIABLE} must be the service's HTTP port, an integer from 1 to 65535 (got ${JSON.stringify(raw ?? null)})`,
    );
  }
  return port;
}

/** One readiness probe: whether the service answered 2xx, and a line saying what it answered. */
export async function probeReady(
  port: number,
  timeoutMs = HEALTH_TIMEOUT_MS,
): Promise<{ ready: boolean; line: string }> {
  const url = `http://127.0.0.1:${port}/health/ready`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ready: response.ok, line: `${url}: ${response.status}` };
  } catch (error) {
    return { ready: false, line: `${url}: ${(error as Error).message}` };
  }
}

async function main(): Promise<number> {
  const { ready, line } = await probeReady(healthPort(process.env));
  (ready ? process.stdout : process.stderr).write(`healthcheck ${line}\n`);
  return ready ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`healthcheck: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
