// Proves the image's health check reads its port strictly and answers Docker's way: ready only on a 2xx from
// /health/ready, with a line saying what the service answered, or why nothing did (a plain HTTP server on 127.0.0.1).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthPort, probeReady } from './healthcheck';

describe('healthPort', () => {
  it('reads HEALTH_PORT as a TCP port', () => {
    expect(healthPort({ HEALTH_PORT: '3102' })).toBe(3102);
  });

  it.each([[undefined], [''], ['0'], ['65536'], ['31o2'], ['-1'], ['3102.5']])(
    'refuses %p, naming the variable',
    (value) => {
      expect(() => healthPort({ HEALTH_PORT: value })).toThrow(/^HEALTH_PORT must be the service's HTTP port/);
    },
  );
});

describe('probeReady', () => {
  let status = 200;
  const server = http.createServer((request, response) => {
    response.statusCode = request.url === '/health/ready' ? status : 404;
    response.end('{}');
  });
  let port = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is ready on a 2xx from /health/ready', async () => {
    status = 200;
    await expect(probeReady(port)).resolves.toEqual({
      ready: true,
      line: `http://127.0.0.1:${port}/health/ready: 200`,
    });
  });

  it('is not ready on a 503, and says so', async () => {
    status = 503;
    await expect(probeReady(port)).resolves.toEqual({
      ready: false,
      line: `http://127.0.0.1:${port}/health/ready: 503`,
    });
  });

  it('is not ready when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const probe = await probeReady(closedPort);
    expect(probe.ready).toBe(false);
    expect(probe.line).toMatch(new RegExp(`^http://127.0.0.1:${closedPort}/health/ready: `));
  });
});
