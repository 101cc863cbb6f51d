import * as net from 'node:net';
import { ProvisionError } from './errors';

/**
 * Fails with a ProvisionError when 127.0.0.1:port cannot be bound. Checked before java starts,
 * because Kafka's own bind error arrives seconds later and buried in its log.
 */
export function assertPortFree(port: number, purpose: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => reject(portError(port, purpose, error)));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve()));
  });
}

function portError(port: number, purpose: string, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EADDRINUSE') {
    return new ProvisionError(
      `port ${port} on 127.0.0.1 (${purpose}) is already in use`,
      `stop whatever listens there (\`ss -ltnp 'sport = :${port}'\` shows it) or start on another port with --port`,
    );
  }
  if (error.code === 'EACCES') {
    return new ProvisionError(
      `not allowed to listen on port ${port} (${purpose})`,
      'use a port of 1024 or above with --port',
    );
  }
  return error;
}
