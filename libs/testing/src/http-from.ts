import { request as httpRequest } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/**
 * A request from a chosen local address: all of 127.0.0.0/8 is loopback, so a spec can be several clients
 * (for per-address rate limits) without a proxy. The body is parsed when it is JSON.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const { method = 'GET', headers = {}, body } = options;
    const outgoing = httpRequest(url, { method, localAddress, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          headers: new Headers(response.headers as Record<string, string>),
          body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text,
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** A GET from a chosen local address (see requestFrom). */
export function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return requestFrom(localAddress, url, { headers });
}
