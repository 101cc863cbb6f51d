// Proves the contribution-scope rules without a broker or database: which events need the contribution
// table, how each is judged against the datanet recorded for its contribution, and that the ingest
// pipeline sends nothing and gives its claims back when one event is refused on that ground.
import type { GatewayConfig } from '../src/gateway.config';
import type { ApiKeyScope } from '../src/auth/api-key';
import { contributionClaims, contributionIssues } from '../src/ingest/contribution-scope';
import { IngestService } from '../src/ingest/ingest.service';
import { GatewayRejection } from '../src/ingest/rejection';

const keyFor = (datanetIds: string[]): ApiKeyScope => ({
  producerId: 'p',
  eventTypes: ['*'],
  datanetIds,
  modelIds: ['*'],
});
const submission = (contributionId: string, datanetId: string) => ({
  eventId: `evt-${contributionId}-${datanetId}`,
  contributionId,
  occurredAt: 1,
  datanetId,
  contributorId: 'c',
  contentHash: 'sha256:00',
  sizeBytes: 1,
  license: 'MIT',
});
const validation = (contributionId: string) => ({
  eventId: `evt-v-${contributionId}`,
  contributionId,
  occurredAt: 1,
  validatorId: 'v',
  decision: 'ACCEPTED',
  qualityScoreBps: 1,
  reason: null,
});
const revocation = (contributionId: string) => ({
  eventId: `evt-r-${contributionId}`,
  contributionId,
  occurredAt: 1,
  reason: 'takedown',
});

describe('contribution scope rules', () => {
  it('records every submission, looks up validations and revocations only for datanet-scoped keys, and ignores other events', () => {
    const events = [
      { type: 'ContributionSubmitted' as const, data: submission('c1', 'a') },
      { type: 'ContributionValidated' as const, data: validation('c2') },
      { type: 'ContributionRevoked' as const, data: revocation('c3') },
      { type: 'DatanetCreated' as const, data: { datanetId: 'a' } },
    ];
    expect(contributionClaims(keyFor(['a']), events)).toEqual([
      { contributionId: 'c1', datanetId: 'a' },
      { contributionId: 'c2', datanetId: null },
      { contributionId: 'c3', datanetId: null },
      undefined,
    ]);
    expect(contributionClaims(keyFor(['*']), events)).toEqual([
      { contributionId: 'c1', datanetId: 'a' },
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('allows a contribution of a datanet the key covers, and refuses another datanet, an unknown one and a taken id, each with its rule', () => {
    const key = keyFor(['a']);
    const recorded = new Map([
      ['mine', 'a'],
      ['theirs', 'b'],
    ]);
    const claims = [
      { contributionId: 'mine', datanetId: null },
      { contributionId: 'theirs', datanetId: null },
      { contributionId: 'nobody-knows', datanetId: null },
      { contributionId: 'mine', datanetId: 'a' }, // a retry of its own submission
      { contributionId: 'theirs', datanetId: 'a' }, // squatting b's id in a
      undefined,
    ];
    expect(
      contributionIssues(key, claims, recorded).map(({ index, status, rule }) => ({ index, status, rule })),
    ).toEqual([
      { index: 1, status: 403, rule: 'contributionNotInScope' },
      { index: 2, status: 403, rule: 'contributionUnknown' },
      { index: 4, status: 409, rule: 'contributionIdTaken' },
    ]);
  });

  it('refuses a taken id to an all-datanet key too, and never judges its validations', () => {
    const key = keyFor(['*']);
    const claims = contributionClaims(key, [
      { type: 'ContributionSubmitted', data: submission('x', 'a') },
      { type: 'ContributionValidated', data: validation('y') },
    ]);
    expect(contributionIssues(key, claims, new Map([['x', 'b']])).map((issue) => issue.rule)).toEqual([
      'contributionIdTaken',
    ]);
  });
});

describe('the ingest pipeline on a contribution outside the key scope', () => {
  function ingestWithStandIns(recorded: Map<string, string>) {
    const publisher = { publishOne: jest.fn(), publishAtomically: jest.fn(), cooldownRemainingMs: 0 };
    const idempotency = {
      claim: jest.fn(async (_producer: string, events: Array<{ eventId: string }>) => ({
        claimed: new Set(events.map((event) => event.eventId)),
        replayed: new Map(),
        conflicting: [],
        inFlight: [],
      })),
      release: jest.fn(async () => undefined),
      acknowledge: jest.fn(),
    };
    const contributions = { resolve: jest.fn(async () => recorded) };
    const metrics = { accepted: { inc: jest.fn() }, reject: jest.fn() };
    const config = {
      TRIBUTARY_TOPIC_PREFIX: '',
      GATEWAY_RETRY_AFTER_S: 1,
      GATEWAY_REQUEST_BYTES_MAX: 1_048_576,
    } as unknown as GatewayConfig;
    return {
      service: new IngestService(
        config,
        publisher as never,
        idempotency as never,
        metrics as never,
        contributions as never,
      ),
      publisher,
      idempotency,
      contributions,
    };
  }

  it('is a 403 naming the event in the batch; nothing is sent and the claims are given back', async () => {
    const { service, publisher, idempotency } = ingestWithStandIns(new Map([['theirs', 'b']]));
    const refusal = await service
      .ingest(
        keyFor(['a']),
        [
          { type: 'ContributionSubmitted', data: submission('mine', 'a') },
          { type: 'ContributionRevoked', data: revocation('theirs') },
        ],
        'batch',
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refusal).toBeInstanceOf(GatewayRejection);
    expect((refusal as GatewayRejection).status).toBe(403);
    expect((refusal as GatewayRejection).issues).toEqual([
      expect.objectContaining({ path: 'events[1].data.contributionId', rule: 'contributionNotInScope' }),
    ]);
    expect(publisher.publishAtomically).not.toHaveBeenCalled();
    expect(idempotency.release).toHaveBeenCalledWith(expect.any(String), ['evt-mine-a', 'evt-r-theirs']);
  });

  it("is a 409 for a submission taking another datanet's id", async () => {
    const { service, publisher } = ingestWithStandIns(new Map([['theirs', 'b']]));
    const refusal = (await service
      .ingest(keyFor(['a']), [{ type: 'ContributionSubmitted', data: submission('theirs', 'a') }], 'single')
      .catch((error: unknown) => error)) as GatewayRejection;
    expect(refusal.status).toBe(409);
    expect(refusal.issues).toEqual([expect.objectContaining({ path: 'contributionId', rule: 'contributionIdTaken' })]);
    expect(publisher.publishOne).not.toHaveBeenCalled();
  });

  it('never asks the contribution table about events that need nothing from it', async () => {
    const { service, contributions } = ingestWithStandIns(new Map());
    await service
      .ingest(keyFor(['*']), [{ type: 'ContributionValidated', data: validation('any') }], 'single')
      .catch(() => undefined);
    expect(contributions.resolve).not.toHaveBeenCalled();
  });
});
