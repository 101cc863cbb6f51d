import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Response } from 'express';
import type { ApiKeyScope } from '../auth/api-key';
import { ApiKeyGuard, KeyScope } from '../auth/api-key.guard';
import { GatewayRateLimitGuard } from '../auth/rate-limit.guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { IngestService, type IncomingEvent, type IngestResult } from './ingest.service';
import { GatewayRejection } from './rejection';

/**
 * The ingest endpoints: POST /events/<EventType> for one event, POST /events/batch for several in one
 * Kafka transaction. Their OpenAPI operations are generated per event type from the Avro schemas
 * (openapi-document.ts), so the routes here are excluded from the scan. ApiKeyGuard authenticates
 * every request before a route runs, then GatewayRateLimitGuard counts it against its key; both run
 * before the body is validated, so a refused request costs no validation.
 */
@Controller('events')
@UseGuards(ApiKeyGuard, GatewayRateLimitGuard)
export class IngestController {
  constructor(
    private readonly ingest: IngestService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  // Declared before :eventType so that "batch" is never read as an event type.
  @Post('batch')
  @HttpCode(202)
  @ApiExcludeEndpoint()
  async batch(
    @KeyScope() scope: ApiKeyScope,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ results: IngestResult[] }> {
    const results = await this.ingest.ingest(scope, this.batchItems(body), 'batch');
    markReplay(response, results);
    return { results };
  }

  @Post(':eventType')
  @HttpCode(202)
  @ApiExcludeEndpoint()
  async single(
    @Param('eventType') eventType: string,
    @KeyScope() scope: ApiKeyScope,
    @Headers('traceparent') traceparent: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<IngestResult> {
    const [result] = await this.ingest.ingest(
      scope,
      [{ type: eventType, data: body, ...(traceparent === undefined ? {} : { traceparent }) }],
      'single',
    );
    markReplay(response, [result!]);
    return result!;
  }

  /** The batch envelope: {"events": [{"type": "...", "data": {...}, "traceparent"?: "..."}, ...]}, 1 to GATEWAY_BATCH_EVENTS_MAX items. */
  private batchItems(body: unknown): IncomingEvent[] {
    const events =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)['events']
        : undefined;
    if (!Array.isArray(events)) {
      throw new GatewayRejection(400, 'invalid', 'a batch is a JSON object {"events": [...]}', [
        { path: 'events', rule: 'wrongType', message: 'must be an array of {type, data} objects' },
      ]);
    }
    const max = this.config.GATEWAY_BATCH_EVENTS_MAX;
    if (events.length === 0 || events.length > max) {
      throw new GatewayRejection(400, 'batch_too_large', `a batch holds 1 to ${max} events, got ${events.length}`, [
        {
          path: 'events',
          rule: events.length === 0 ? 'minItems' : 'maxItems',
          message: `must hold 1 to ${max} events (got ${events.length})`,
        },
      ]);
    }
    return events.map((item: unknown) =>
      typeof item === 'object' && item !== null ? (item as IncomingEvent) : { type: undefined, data: item },
    );
  }
}

function markReplay(response: Response, results: readonly IngestResult[]): void {
  if (results.every((result) => result.replayed)) response.setHeader('Idempotent-Replayed', 'true');
}
