// Proves a taken port is reported as a ProvisionError naming the port before any Java starts, by listening on a port in the test first.
import * as net from 'node:net';
import { ProvisionError } from './errors';
import { assertPortFree } from './port';

function listenOnFreePort(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

describe('assertPortFree', () => {
  it('rejects with a ProvisionError naming the taken port', async () => {
    const server = await listenOnFreePort();
    const port = portOf(server);
    try {
      const check = assertPortFree(port, 'Kafka client listener');
      await expect(check).rejects.toBeInstanceOf(ProvisionError);
      await expect(assertPortFree(port, 'Kafka client listener')).rejects.toThrow(
        `port ${port} on 127.0.0.1 (Kafka client listener) is already in use`,
      );
    } finally {
      server.close();
    }
  });

  it('resolves for a port nobody listens on, and leaves it free', async () => {
    const server = await listenOnFreePort();
    const port = portOf(server);
    await new Promise((resolve) => server.close(resolve));
    await expect(assertPortFree(port, 'test')).resolves.toBeUndefined();
    await expect(assertPortFree(port, 'test')).resolves.toBeUndefined();
  });
});
