// The OpenAPI document: Nest's scan of the controllers (schema catalog, health) plus one operation per
// event type, generated from the same Avro contracts the gateway validates with.
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { getEventContract, INTERNAL_EVENT_TYPES, internalEventTypeRule } from '@tributary/contracts';
import type { GatewayConfig } from '../gateway.config';
import { openApiSchemaOf } from './openapi-schemas';
import { GATEWAY_EVENT_TYPES } from './wire-format';

const RESULT = {
  type: 'object',
  required: ['eventId', 'topic', 'partition', 'offset', 'source', 'replayed'],
  properties: {
    eventId: { type: 'string' },
    topic: { type: 'string' },
    partition: { type: 'integer' },
    offset: { type: 'string', description: 'int64 offset, as a decimal string' },
    source: {
      type: 'string',
      description:
        "the record's ce_source: the producer the key speaks for, as decisions and the treasury's deposits name it",
    },
    replayed: {
      type: 'boolean',
      description: 'true when this eventId was acknowledged before with the same body: the original result',
    },
  },
};

const PROBLEM = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string', description: 'the rejection reason' },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

// Said in the document because these types have schemas in GET /schemas but no operation here, and a
// reader should learn why instead of guessing that they were forgotten.
const INTERNAL_TYPES_NOTE = `Refused with 400 (rule internalEventType): ${INTERNAL_EVENT_TYPES.map(internalEventTypeRule).join('; ')}.`;

export function buildOpenApiDocument(app: INestApplication, config: GatewayConfig): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tributary gateway')
      .setDescription(
        'Publish Tributary events over HTTP. Bodies are JSON in the shape of the Avro schema; int64 fields (amounts, sizes, times) are JSON integers up to 2^53-1 or decimal strings. ' +
          '202 means Kafka acknowledged the event (acks=all). ' +
          'A retry with the same eventId and body returns the original result. ' +
          INTERNAL_TYPES_NOTE,
      )
      .setVersion('1')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'an API key from `npm run gateway -- keys create`' },
        'apiKey',
      )
      .build(),
  );
  const schemas: Record<string, unknown> = { IngestResult: RESULT, Problem: PROBLEM };
  const paths: Record<string, unknown> = {};
  for (const eventType of GATEWAY_EVENT_TYPES) {
    schemas[eventType] = openApiSchemaOf(eventType);
    paths[`/events/${eventType}`] = {
      post: {
        tags: ['events'],
        operationId: `publish${eventType}`,
        summary: `Publish one ${eventType} to ${getEventContract(eventType).topic}`,
        security: [{ apiKey: [] }],
        parameters: [{ name: 'traceparent', in: 'header', required: false, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${eventType}` } } },
        },
        responses: responses({ $ref: '#/components/schemas/IngestResult' }),
      },
    };
  }
  paths['/events/batch'] = {
    post: {
      tags: ['events'],
      operationId: 'publishBatch',
      summary: `Publish 1 to ${config.GATEWAY_BATCH_EVENTS_MAX} events of any types in one Kafka transaction: all or none`,
      security: [{ apiKey: [] }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['events'],
              properties: {
                events: {
                  type: 'array',
                  minItems: 1,
                  maxItems: config.GATEWAY_BATCH_EVENTS_MAX,
                  items: {
                    oneOf: GATEWAY_EVENT_TYPES.map((eventType) => ({
                      type: 'object',
                      required: ['type', 'data'],
                      properties: {
                        type: { type: 'string', enum: [eventType] },
                        data: { $ref: `#/components/schemas/${eventType}` },
                        traceparent: { type: 'string' },
                      },
                    })),
                  },
                },
              },
            },
          },
        },
      },
      responses: responses({
        type: 'object',
        properties: { results: { type: 'array', items: { $ref: '#/components/schemas/IngestResult' } } },
      }),
    },
  };
  return {
    ...document,
    paths: { ...paths, ...document.paths } as OpenAPIObject['paths'],
    components: { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...schemas } as never },
  };
}

function responses(accepted: unknown) {
  const problem = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  return {
    202: {
      description: 'Kafka acknowledged (acks=all); where it landed',
      content: { 'application/json': { schema: accepted } },
    },
    400: problem('invalid: every offending field with the rule it breaks; nothing was sent'),
    401: problem('no API key, or an unknown or revoked one'),
    403: problem(
      'the key may not publish this event type, datanet or model, or validate or revoke a contribution of a datanet it does not cover (rules contributionNotInScope, contributionUnknown); nothing was sent',
    ),
    409: problem(
      'the eventId was used for a different event (or is being sent right now: retry after Retry-After), or the contributionId is held by another datanet (rule contributionIdTaken); nothing was sent',
    ),
    413: problem('the body is larger than GATEWAY_BODY_BYTES_MAX'),
    429: problem(
      'rate_limited: more requests than GATEWAY_RATE_LIMIT_PER_KEY for this key, or too many unknown keys from this address (GATEWAY_AUTH_FAILURES_PER_ADDRESS); nothing was sent; retry after Retry-After',
    ),
    503: problem('Kafka or the database is unavailable; nothing was written; retry after Retry-After'),
  };
}
