// A webhook receiver for the payouts specs, on 127.0.0.1: it verifies every request with the shipped
// verifier, pays each idempotency key at most once, answers the status query by its own records, and
// misbehaves as a test asks (fails, hangs, pays then errs, refuses).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, WEBHOOK_HEADERS } from '@tributary/payouts';

/**
 * ambiguous: contributors are paid and answered 500, the protocol is paid and never answered (a timeout),
 * owners are answered 500 unpaid; refuse: every request gets an explicit refusal.
 */
export type HookMode = 'ok' | 'fail-twice' | 'hang-first' | 'ambiguous' | 'refuse';

/** The webhook receiver: verifies signatures, pays each idempotency key once, and behaves as the test says. */
export class WebhookReceiver {
  mode: HookMode = 'ok';
  /** Whether the status endpoint answers (paid or refused, by its records) or only 503. */
  statusAnswers = false;
  /** Keys the status endpoint called refused: a late payment request under one is refused too, as the contract asks. */
  readonly refusedKeys = new Set<string>();
  readonly calls = new Map<string, number>();
  readonly paid = new Map<string, { accountId: string; amountMinor: bigint }>();
  readonly held: ServerResponse[] = [];
  /** Why the shipped verifier refused a request, in arrival order (the rail itself must never be refused). */
  readonly rejected: string[] = [];
  /** The last request the verifier accepted, as received: what an attacker on the path could capture. */
  lastAccepted: { headers: Record<string, string>; body: string } | null = null;
  /** The receiver's clock, injectable so a replay after the tolerance needs no waiting. */
  now: () => number = Date.now;
  badSignatures = 0;
  private server!: Server;

  constructor(private readonly secret: string) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/payouts`;
  }

  async stop(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const verified = verifyWebhookSignature(
      {
        timestamp: request.headers[WEBHOOK_HEADERS.timestamp],
        signature: request.headers[WEBHOOK_HEADERS.signature],
        body: raw,
      },
      this.secret,
      { now: this.now },
    );
    if (!verified.ok) {
      this.rejected.push(verified.reason);
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: verified.reason }));
      return;
    }
    const body = raw.toString('utf8');
    this.lastAccepted = {
      headers: Object.fromEntries(Object.values(WEBHOOK_HEADERS).map((name) => [name, String(request.headers[name])])),
      body,
    };
    const payout = JSON.parse(body) as { payoutId: string; accountId: string; amountMinor: string };
    const key = String(request.headers[WEBHOOK_HEADERS.idempotencyKey]);
    if (request.url === '/payouts/status') return this.status(key, response);
    if (key !== payout.payoutId) this.badSignatures += 1;
    const call = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, call);
    const pay = () => {
      if (!this.paid.has(key))
        this.paid.set(key, { accountId: payout.accountId, amountMinor: BigInt(payout.amountMinor) });
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ reference: `hook-${key.slice(-12)}` }));
    };
    const refuse = (reason: string) =>
      response
        .writeHead(422, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'refused', reason }));
    if (this.refusedKeys.has(key)) refuse('this key was reported refused');
    else if (this.mode === 'refuse') refuse('account closed at the rail');
    else if (this.mode === 'ambiguous') {
      if (payout.accountId.startsWith('contributor:') || payout.accountId === 'protocol')
        this.paid.set(key, { accountId: payout.accountId, amountMinor: BigInt(payout.amountMinor) });
      if (payout.accountId === 'protocol') this.held.push(response);
      else response.writeHead(500).end('internal error after the ledger call');
    } else if (this.mode === 'fail-twice' && call <= 2) response.writeHead(503).end('try later');
    else if (this.mode === 'hang-first' && call === 1) {
      // The rail pays, then the answer never arrives: the caller must ask again under the same key.
      this.paid.set(key, { accountId: payout.accountId, amountMinor: BigInt(payout.amountMinor) });
      this.held.push(response);
    } else pay();
  }

  /** The status contract: what became of an idempotency key; a key never paid is refused from then on. */
  private status(key: string, response: ServerResponse): void {
    if (!this.statusAnswers) {
      response.writeHead(503).end('status unavailable');
      return;
    }
    if (this.paid.has(key)) {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'paid', reference: `hook-${key.slice(-12)}` }));
      return;
    }
    this.refusedKeys.add(key);
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'refused', reason: 'never received' }));
  }
}
