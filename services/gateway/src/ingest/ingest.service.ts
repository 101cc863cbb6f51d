import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { avroBodyOf, ContractError, toRecord, type EventType, type OutboundRecord } from '@tributary/contracts';
import { assertRecordFits, RecordTooLargeError, type PublishResult } from '@tributary/producer';
import { scopeIssues, sourceOf, type ApiKeyScope } from '../auth/api-key';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { ContributionDatanetStore } from './contribution-datanets.store';
import { contributionClaims, contributionIssues, type ContributionClaim } from './contribution-scope';
import { IdempotencyStore, type ClaimOutcome } from './idempotency.store';
import { KafkaPublisher } from './kafka-publisher';
import { GatewayRejection, KafkaOverloadedError, KafkaUnavailableError, type RequestIssue } from './rejection';
import { eventTypeRefusal, fromWire, isGatewayEventType } from './wire-format';

/** One event as it arrived: its type (from the path or the batch item) and its JSON body. */
export interface IncomingEvent {
  readonly type: unknown;
  readonly data: unknown;
  readonly traceparent?: unknown;
}

export interface IngestResult extends PublishResult {
  /** The record's ce_source: the producer the key speaks for, which the treasury's deposits must name. */
  readonly source: string;
  /** True when this event id was acknowledged before, with the same body: this is the original result. */
  readonly replayed: boolean;
}

interface PreparedEvent {
  readonly type: EventType;
  readonly data: Record<string, unknown>;
  readonly record: OutboundRecord;
  readonly bodySha256: string;
}

/**
 * What an event id's idempotency row compares: SHA-256 of the event type and the event's Avro body, not of
 * the record value, so a retry of an event acknowledged raw, sent again once records are Confluent-framed
 * (or the other way round), is the same event. Equal to the value's hash for raw records, as stored before.
 */
export function bodySha256Of(eventType: string, record: OutboundRecord): string {
  return createHash('sha256').update(`${eventType}\n`).update(avroBodyOf(record)).digest('hex');
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * What happens to events between the HTTP edge and Kafka, in order: validate every event against its
 * schema (400), check the key's scope (403), check each event's record fits Kafka (413), claim the event ids (409 for a reused id, or the original
 * result for a retry) while recording submitted contributions' datanets and judging validations and
 * revocations by them (403; 409 for a contribution id another datanet holds), send (202 once Kafka
 * acked; 503 when it cannot), record where they landed.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly publisher: KafkaPublisher,
    private readonly idempotency: IdempotencyStore,
    private readonly metrics: GatewayMetrics,
    private readonly contributions: ContributionDatanetStore,
  ) {}

  async ingest(
    scope: ApiKeyScope,
    events: readonly IncomingEvent[],
    mode: 'single' | 'batch',
  ): Promise<IngestResult[]> {
    const paths = pathsFor(mode);
    const prepared = this.prepare(scope, events, paths);
    this.assertInScope(scope, prepared, paths);
    this.assertSendable(prepared, paths);
    assertUniqueIds(prepared, paths);
    const claimToken = randomUUID();
    const claim = await this.claimInContributionScope(scope, prepared, claimToken, paths);
    const toSend = prepared.filter((event) => claim.claimed.has(event.record.envelope.id));
    const sent = toSend.length === 0 ? [] : await this.send(toSend, mode, claimToken);
    const sentById = new Map(sent.map((result) => [result.eventId, result]));
    return prepared.map((event) => {
      const eventId = event.record.envelope.id;
      const replay = claim.replayed.get(eventId);
      this.metrics.accepted.inc({ event_type: event.type, mode, replayed: String(replay !== undefined) });
      const source = event.record.envelope.source;
      return replay ? { ...replay, source, replayed: true } : { ...sentById.get(eventId)!, source, replayed: false };
    });
  }

  /** Every event validated and encoded; a 400 lists every offending field of every event at once. */
  private prepare(scope: ApiKeyScope, events: readonly IncomingEvent[], paths: Paths): PreparedEvent[] {
    const issues: RequestIssue[] = [];
    const prepared: PreparedEvent[] = [];
    events.forEach((event, index) => {
      if (!isGatewayEventType(event.type)) {
        issues.push({ path: paths.item(index, 'type'), ...eventTypeRefusal(event.type) });
        return;
      }
      if (
        event.traceparent !== undefined &&
        (typeof event.traceparent !== 'string' || !TRACEPARENT.test(event.traceparent))
      ) {
        issues.push({
          path: paths.item(index, 'traceparent'),
          rule: 'malformed',
          message: 'must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>',
        });
        return;
      }
      try {
        const data = fromWire(event.type, event.data);
        const record = toRecord(event.type, data as never, {
          source: sourceOf(scope.producerId),
          ...(this.config.TRIBUTARY_TOPIC_PREFIX ? { topicPrefix: this.config.TRIBUTARY_TOPIC_PREFIX } : {}),
          ...(typeof event.traceparent === 'string' ? { traceparent: event.traceparent } : {}),
        });
        const bodySha256 = bodySha256Of(event.type, record);
        prepared.push({ type: event.type, data: data as Record<string, unknown>, record, bodySha256 });
      } catch (error) {
        if (!(error instanceof ContractError)) throw error;
        for (const issue of error.issues)
          issues.push({ path: paths.data(index, issue.path), rule: issue.rule, message: issue.message });
      }
    });
    if (issues.length > 0) {
      throw new GatewayRejection(400, 'invalid', invalidSummary(issues), issues.slice(0, ISSUES_MAX));
    }
    return prepared;
  }

  /**
   * Every event can be carried: its Kafka record (key, value, headers, framing), alone in a batch, within
   * its topic's max.message.bytes and within one produce request (GATEWAY_REQUEST_BYTES_MAX). With the
   * schemas' limits every valid event fits a 1 MiB topic, so this refuses only where an operator set
   * the request size lower; it is what keeps a send from failing, for every caller of a group commit.
   */
  private assertSendable(prepared: readonly PreparedEvent[], paths: Paths): void {
    const issues: RequestIssue[] = [];
    let refusal: RecordTooLargeError | undefined;
    prepared.forEach((event, index) => {
      try {
        assertRecordFits(event.record, this.config.GATEWAY_REQUEST_BYTES_MAX);
      } catch (error) {
        if (!(error instanceof RecordTooLargeError)) throw error;
        refusal ??= error;
        issues.push({ path: paths.data(index, ''), rule: 'recordTooLarge', message: tooLargeText(error) });
      }
    });
    if (refusal === undefined) return;
    const limit =
      refusal.limitName === 'max.message.bytes'
        ? `${refusal.limitBytes} bytes ${refusal.topic} takes (max.message.bytes)`
        : `${refusal.limitBytes} bytes the gateway sends in one Kafka request (GATEWAY_REQUEST_BYTES_MAX)`;
    throw new GatewayRejection(
      413,
      'too_large',
      `${issues.length === 1 ? 'an event is' : `${issues.length} events are`} too large to send: more than the ${limit}; nothing was sent`,
      issues.slice(0, ISSUES_MAX),
    );
  }

  private assertInScope(scope: ApiKeyScope, prepared: readonly PreparedEvent[], paths: Paths): void {
    const issues = prepared.flatMap((event, index) =>
      scopeIssues(scope, event.type, event.data).map((issue) => ({
        ...issue,
        path: issue.path === '' ? paths.item(index, 'type') : paths.data(index, issue.path),
      })),
    );
    if (issues.length > 0) {
      throw new GatewayRejection(
        403,
        'forbidden',
        `producer ${scope.producerId} may not publish ${issues.length === 1 ? 'this event' : 'these events'}; nothing was sent`,
        issues.slice(0, ISSUES_MAX),
      );
    }
  }

  /**
   * Claims the event ids and, at the same time (one round trip, not two), records the datanets of the
   * submitted contributions and reads those of the validated or revoked ones. A refusal on a
   * contribution wins over the claim's outcome, and gives back whatever was claimed.
   */
  private async claimInContributionScope(
    scope: ApiKeyScope,
    prepared: readonly PreparedEvent[],
    claimToken: string,
    paths: Paths,
  ): Promise<ClaimOutcome> {
    const claims = contributionClaims(scope, prepared);
    const wanted = claims.filter((claim): claim is ContributionClaim => claim !== undefined);
    if (wanted.length === 0) return this.claim(scope.producerId, prepared, claimToken, paths);
    const [recorded, claimed] = await Promise.allSettled([
      this.database(() => this.contributions.resolve(wanted)),
      this.claim(scope.producerId, prepared, claimToken, paths),
    ]);
    const issues = recorded.status === 'fulfilled' ? contributionIssues(scope, claims, recorded.value) : [];
    if (recorded.status === 'rejected' || issues.length > 0) {
      if (claimed.status === 'fulfilled')
        await this.idempotency.release(claimToken, [...claimed.value.claimed]).catch(() => undefined);
      if (recorded.status === 'rejected') throw recorded.reason;
      const forbidden = issues.some((issue) => issue.status === 403);
      const named = issues.map((issue) => ({
        path: paths.data(issue.index, 'contributionId'),
        rule: issue.rule,
        message: issue.message,
      }));
      if (forbidden) {
        throw new GatewayRejection(
          403,
          'forbidden',
          `producer ${scope.producerId} may not validate or revoke ${issues.length === 1 ? 'this contribution' : 'these contributions'}: the key's datanets do not cover it; nothing was sent`,
          named.slice(0, ISSUES_MAX),
        );
      }
      throw new GatewayRejection(
        409,
        'conflict',
        'a contributionId was already submitted to another datanet; nothing was sent',
        named.slice(0, ISSUES_MAX),
      );
    }
    if (claimed.status === 'rejected') throw claimed.reason;
    return claimed.value;
  }

  private async claim(
    producerId: string,
    prepared: readonly PreparedEvent[],
    claimToken: string,
    paths: Paths,
  ): Promise<ClaimOutcome> {
    const claim = await this.database(() =>
      this.idempotency.claim(
        producerId,
        prepared.map((event) => ({
          eventId: event.record.envelope.id,
          eventType: event.type,
          bodySha256: event.bodySha256,
        })),
        claimToken,
      ),
    );
    if (claim.conflicting.length === 0 && claim.inFlight.length === 0) return claim;
    await this.database(() => this.idempotency.release(claimToken, [...claim.claimed])).catch(() => undefined);
    const issueOf = (index: number, eventId: string): RequestIssue[] =>
      claim.conflicting.includes(eventId)
        ? [
            {
              path: paths.data(index, 'eventId'),
              rule: 'eventIdReused',
              message: 'this eventId was already published with a different body (or by another producer)',
            },
          ]
        : claim.inFlight.includes(eventId)
          ? [
              {
                path: paths.data(index, 'eventId'),
                rule: 'eventIdInFlight',
                message: 'another request with this eventId is being sent; retry after Retry-After',
              },
            ]
          : [];
    const issues = prepared.flatMap((event, index) => issueOf(index, event.record.envelope.id));
    if (claim.conflicting.length > 0) {
      throw new GatewayRejection(
        409,
        'conflict',
        'an eventId was already used for a different event; nothing was sent',
        issues.slice(0, ISSUES_MAX),
      );
    }
    throw new GatewayRejection(
      409,
      'in_flight',
      'an eventId is being sent by another request; nothing was sent',
      issues.slice(0, ISSUES_MAX),
      1,
    );
  }

  private async send(
    toSend: readonly PreparedEvent[],
    mode: 'single' | 'batch',
    claimToken: string,
  ): Promise<PublishResult[]> {
    let results: PublishResult[];
    try {
      results =
        mode === 'single'
          ? [await this.publisher.publishOne(toSend[0]!.record)]
          : await this.publisher.publishAtomically(toSend.map((event) => event.record));
    } catch (error) {
      await this.idempotency
        .release(
          claimToken,
          toSend.map((event) => event.record.envelope.id),
        )
        .catch(() => undefined);
      throw this.unavailable(error);
    }
    // Kafka holds the events now, so the answer is 202 even if the row cannot be written: a retry then
    // finds the claim pending, and once it is stale sends the event again; consumers dedup by eventId.
    await this.idempotency
      .acknowledge(claimToken, results)
      .catch((error: Error) => this.logger.warn(`acknowledged in Kafka but not recorded: ${error.message}`));
    return results;
  }

  private unavailable(error: unknown): GatewayRejection {
    const retryAfterS = Math.max(
      this.config.GATEWAY_RETRY_AFTER_S,
      Math.ceil(this.publisher.cooldownRemainingMs / 1_000),
    );
    if (error instanceof KafkaOverloadedError) {
      return new GatewayRejection(503, 'overloaded', `${error.message}; nothing was sent`, [], retryAfterS);
    }
    if (error instanceof KafkaUnavailableError) {
      return new GatewayRejection(
        503,
        'unavailable',
        `Kafka is unavailable (${error.message}); nothing was written`,
        [],
        retryAfterS,
      );
    }
    throw error;
  }

  /** The idempotency table is needed before anything is sent; without the database the answer is 503. */
  private async database<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new GatewayRejection(
        503,
        'unavailable',
        `the gateway database is unavailable (${(error as Error).message}); nothing was sent`,
        [],
        this.config.GATEWAY_RETRY_AFTER_S,
      );
    }
  }
}

const ISSUES_MAX = 100;

/**
 * Where an issue is, as the caller wrote it: a single event's body is the event itself (`feeMinor`);
 * a batch names the item (`events[3].data.feeMinor`, `events[3].type`).
 */
interface Paths {
  item(index: number, name: 'type' | 'traceparent'): string;
  data(index: number, fieldPath: string): string;
}

function pathsFor(mode: 'single' | 'batch'): Paths {
  if (mode === 'single')
    return { item: (_, name) => (name === 'type' ? 'eventType' : name), data: (_, fieldPath) => fieldPath };
  return {
    item: (index, name) => `events[${index}].${name}`,
    data: (index, fieldPath) => joinPath(`events[${index}].data`, fieldPath),
  };
}

function joinPath(prefix: string, path: string): string {
  if (path === '') return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/**
 * The message of a 400 for invalid events. A refused internal event type is named with its rule, so a
 * caller who reads only the message learns which service publishes it; other issues are counted.
 */
function invalidSummary(issues: readonly RequestIssue[]): string {
  const internal = issues.filter((issue) => issue.rule === 'internalEventType');
  const fieldCount = issues.length - internal.length;
  const parts = [...new Set(internal.map((issue) => issue.message))];
  if (fieldCount > 0) parts.push(`${fieldCount} field(s) break the event schema`);
  return `${parts.join('; ')}; nothing was sent`;
}

function tooLargeText(error: RecordTooLargeError): string {
  const limit =
    error.limitName === 'max.message.bytes'
      ? `the ${error.limitBytes} bytes of max.message.bytes of ${error.topic}`
      : `the ${error.limitBytes} bytes of GATEWAY_REQUEST_BYTES_MAX`;
  return `the event is ${error.bytes} bytes as a Kafka record (key, value, headers and framing), more than ${limit}`;
}

function assertUniqueIds(prepared: readonly PreparedEvent[], paths: Paths): void {
  const seen = new Set<string>();
  const issues: RequestIssue[] = [];
  prepared.forEach((event, index) => {
    const eventId = event.record.envelope.id;
    if (seen.has(eventId))
      issues.push({
        path: paths.data(index, 'eventId'),
        rule: 'duplicateEventId',
        message: 'another event of this batch has the same eventId',
      });
    seen.add(eventId);
  });
  if (issues.length > 0)
    throw new GatewayRejection(
      400,
      'invalid',
      'a batch must not repeat an eventId; nothing was sent',
      issues.slice(0, ISSUES_MAX),
    );
}
