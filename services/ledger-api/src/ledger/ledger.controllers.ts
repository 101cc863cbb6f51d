import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { describeScopes, formatScope } from '@tributary/access';
import { z } from 'zod';
import { ACCOUNT_ROLES, EARNER_ROLES } from '@tributary/attribution';
import {
  accountParam,
  assetParam,
  checkRange,
  cursorParam,
  idParam,
  limitParam,
  parseParams,
  timeParam,
} from '../http/validation';
import { AnalyticsQueries } from './analytics-queries';
import { InferenceQueries } from './inference-queries';
import { StatementQueries, type StatementEntry } from './statement-queries';
import { StatusQueries } from './status-queries';
import { DlqDepths } from '../kafka/dlq-depths';
import { FundingQueries } from './funding-queries';
import { readerOf } from '../http/read-access.guard';

/** Error responses every operation can give; the body is always {statusCode, error, message, issues}. */
const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'error', 'message', 'issues'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, rule: { type: 'string' } } },
    },
  },
};
const BadRequest = () =>
  ApiResponse({ status: 400, description: 'a parameter broke its rule; issues name each one', schema: ERROR_SCHEMA });
const NotFound = () => ApiResponse({ status: 404, description: 'no such id in the ledger', schema: ERROR_SCHEMA });
const Unavailable = () =>
  ApiResponse({ status: 503, description: 'the database or Kafka did not answer in time', schema: ERROR_SCHEMA });

const range = { from: timeParam.optional(), to: timeParam.optional() };

const accountsQuery = z.strictObject({
  role: z.enum(ACCOUNT_ROLES).optional(),
  ownerId: idParam.optional(),
  asset: assetParam.optional(),
  limit: limitParam(50, 500),
  cursor: cursorParam.optional(),
});
const statementQuery = z.strictObject({
  asset: assetParam.optional(),
  limit: limitParam(100, 1_000),
  cursor: cursorParam.optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
const csvQuery = statementQuery.extend({ limit: limitParam(10_000, 10_000) });
const pageQuery = z.strictObject({ limit: limitParam(50, 500), cursor: cursorParam.optional() });
const payoutsQuery = z.strictObject({
  account: accountParam.optional(),
  status: z.enum(['REQUESTED', 'SETTLED', 'FAILED']).optional(),
  limit: limitParam(50, 500),
  cursor: cursorParam.optional(),
});
const revenueQuery = z.strictObject({
  dimension: z.enum(['datanet', 'model', 'contributor']),
  asset: assetParam.optional(),
  limit: limitParam(100, 500),
  ...range,
});
const earnersQuery = z.strictObject({
  role: z.enum(EARNER_ROLES).default('contributor'),
  asset: assetParam.optional(),
  limit: limitParam(10, 100),
  ...range,
});
const flowQuery = z.strictObject({ asset: assetParam.optional(), top: limitParam(8, 50), ...range });
const freshnessQuery = z.strictObject({
  topic: z
    .string()
    .min(1)
    .max(249)
    .regex(/^[A-Za-z0-9._-]+$/, 'rule:kafka-topic-name'),
  partition: z.coerce.number().int().min(0).max(100_000),
  offset: z
    .string()
    .regex(/^\d{1,19}$/, 'rule:non-negative-int64')
    .transform((value) => BigInt(value))
    .refine((value) => value < 2n ** 63n, 'rule:non-negative-int64'),
  inferenceId: idParam.optional(),
  waitMs: z
    .string()
    .regex(/^\d{1,9}$/, 'rule:non-negative-integer')
    .transform((value) => Number(value))
    .optional(),
});
const noQuery = z.strictObject({});

const cursorDoc = { name: 'cursor', required: false, description: 'nextCursor of the previous page' };
const fromDoc = {
  name: 'from',
  required: false,
  description: 'ISO 8601 time with zone; decisions recorded at or after it (Kafka time of the decision record)',
};
const toDoc = { name: 'to', required: false, description: 'ISO 8601 time with zone; decisions recorded before it' };

@ApiTags('access')
@Controller('v1/me')
export class MeController {
  @Get()
  @ApiOperation({
    summary:
      "The scopes of the caller's credential: operator, analyst, and the accounts it may read as a participant (what the dashboard shows)",
  })
  me(@Req() request: Request, @Query() query: unknown) {
    parseParams(noQuery, query);
    const scopes = readerOf(request)?.scopes ?? [];
    return { scopes: scopes.map(formatScope), ...describeScopes(scopes) };
  }
}

@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(@Inject(StatementQueries) private readonly statements: StatementQueries) {}

  @Get()
  @ApiOperation({ summary: 'Accounts and balances, by account id; amounts are decimal strings of minor units' })
  @ApiQuery({ name: 'role', required: false, enum: ACCOUNT_ROLES })
  @ApiQuery({ name: 'ownerId', required: false })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery(cursorDoc)
  @BadRequest()
  @Unavailable()
  list(@Query() query: unknown) {
    return this.statements.accounts(parseParams(accountsQuery, query));
  }

  @Get(':account')
  @ApiOperation({ summary: 'One account: balance, credits and debits per asset, payouts by status' })
  @ApiParam({ name: 'account', description: '<role>:<id>, e.g. contributor:alice' })
  @NotFound()
  @BadRequest()
  account(@Param('account') account: string, @Query() query: unknown) {
    parseParams(noQuery, query);
    return this.statements.account(parseParams(z.object({ account: accountParam }), { account }).account);
  }

  @Get(':account/contributions')
  @ApiOperation({
    summary:
      'Lineage of a contributor account: the contributions its credits came from, with earnings and inference counts (cursor-paginated)',
  })
  @ApiParam({ name: 'account' })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery(cursorDoc)
  @NotFound()
  @BadRequest()
  contributions(@Param('account') account: string, @Query() query: unknown) {
    const id = parseParams(z.object({ account: accountParam }), { account }).account;
    return this.statements.accountContributions(id, parseParams(pageQuery, query));
  }

  @Get(':account/statement')
  @ApiOperation({
    summary:
      "The account's entries in ledger order, each traced to its inference or payout; cursor-paginated; format=csv for a CSV export",
  })
  @ApiParam({ name: 'account' })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100 (CSV: 1-10000, default 10000)' })
  @ApiQuery(cursorDoc)
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  @ApiProduces('application/json', 'text/csv')
  @NotFound()
  @BadRequest()
  async statement(
    @Param('account') account: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) response: Response,
  ) {
    const id = parseParams(z.object({ account: accountParam }), { account }).account;
    if (query?.format !== 'csv') return this.statements.statement(id, parseParams(statementQuery, query));
    const filter = parseParams(csvQuery, query);
    const page = await this.statements.statement(id, filter);
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader(
      'Content-Disposition',
      `attachment; filename="statement-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`,
    );
    if (page.nextCursor) response.setHeader('X-Next-Cursor', page.nextCursor);
    return statementCsv(id, page.items);
  }
}

const CSV_COLUMNS = [
  'account',
  'asset',
  'amount_minor',
  'trace_kind',
  'trace_id',
  'transaction_id',
  'posting_index',
  'source_event_id',
  'source_topic',
  'source_partition',
  'source_offset',
  'chain_seq',
];

/** RFC 4180 quoting, and a leading apostrophe on text that a spreadsheet would run as a formula. */
function csvField(value: string | number): string {
  const text =
    typeof value === 'number'
      ? String(value)
      : /^[=+\-@\t\r]/.test(value) && !/^-?\d+$/.test(value)
        ? `'${value}`
        : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function statementCsv(account: string, entries: readonly StatementEntry[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const entry of entries) {
    const traceId = entry.trace.kind === 'inference' ? entry.trace.inferenceId : entry.trace.payoutId;
    lines.push(
      [
        account,
        entry.asset,
        entry.amountMinor,
        entry.trace.kind,
        traceId,
        entry.transactionId,
        entry.postingIndex,
        entry.sourceEventId,
        entry.sourceTopic,
        entry.sourcePartition,
        entry.sourceOffset,
        entry.chainSeq,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

@ApiTags('lineage')
@Controller('v1')
export class LineageController {
  constructor(
    @Inject(InferenceQueries) private readonly inferences: InferenceQueries,
    @Inject(StatementQueries) private readonly statements: StatementQueries,
  ) {}

  @Get('inferences/:inferenceId')
  @ApiOperation({
    summary: "An inference's decision explained: fee, split, shares, contributors and their contributions, rejections",
  })
  @ApiOkResponse({
    description:
      'decisionAvailable is false (with decisionProblem) when the decision record could not be read from Kafka; ledger amounts are still given',
  })
  @NotFound()
  @BadRequest()
  inference(@Param('inferenceId') inferenceId: string, @Query() query: unknown) {
    parseParams(noQuery, query);
    return this.inferences.explain(parseParams(z.object({ inferenceId: idParam }), { inferenceId }).inferenceId);
  }

  @Get('contributions/:contributionId')
  @ApiOperation({ summary: "A contribution's earnings and the inferences that paid it (cursor-paginated)" })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery(cursorDoc)
  @NotFound()
  @BadRequest()
  contribution(@Param('contributionId') contributionId: string, @Query() query: unknown) {
    const id = parseParams(z.object({ contributionId: idParam }), { contributionId }).contributionId;
    return this.statements.contribution(id, parseParams(pageQuery, query));
  }

  @Get('payouts')
  @ApiOperation({ summary: 'Payouts, by payout id' })
  @ApiQuery({ name: 'account', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['REQUESTED', 'SETTLED', 'FAILED'] })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery(cursorDoc)
  @BadRequest()
  payouts(@Query() query: unknown) {
    return this.statements.payouts(parseParams(payoutsQuery, query));
  }

  @Get('payouts/:payoutId')
  @ApiOperation({ summary: 'One payout with its ledger entries' })
  @NotFound()
  @BadRequest()
  payout(@Param('payoutId') payoutId: string, @Query() query: unknown) {
    parseParams(noQuery, query);
    return this.statements.payout(parseParams(z.object({ payoutId: idParam }), { payoutId }).payoutId);
  }
}

@ApiTags('analytics')
@Controller('v1')
export class AnalyticsController {
  constructor(@Inject(AnalyticsQueries) private readonly analytics: AnalyticsQueries) {}

  @Get('revenue')
  @ApiOperation({
    summary: 'Revenue per datanet (contributor credits), model (fees) or contributor, all time or for a time range',
  })
  @ApiQuery({ name: 'dimension', enum: ['datanet', 'model', 'contributor'] })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 100' })
  @ApiQuery(fromDoc)
  @ApiQuery(toDoc)
  @BadRequest()
  @Unavailable()
  revenue(@Query() query: unknown) {
    const { dimension, asset, limit, from, to } = parseParams(revenueQuery, query);
    return this.analytics.revenue(dimension, { ...checkRange({ from, to }), ...(asset ? { asset } : {}), limit });
  }

  @Get('top-earners')
  @ApiOperation({ summary: 'Accounts of a role by what decisions credited them, all time or for a time range' })
  @ApiQuery({ name: 'role', required: false, enum: EARNER_ROLES })
  @ApiQuery({ name: 'asset', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-100, default 10' })
  @ApiQuery(fromDoc)
  @ApiQuery(toDoc)
  @BadRequest()
  topEarners(@Query() query: unknown) {
    const { role, asset, limit, from, to } = parseParams(earnersQuery, query);
    return this.analytics.topEarners(role, { ...checkRange({ from, to }), ...(asset ? { asset } : {}), limit });
  }

  @Get('flow')
  @ApiOperation({
    summary:
      'The flow of value of one asset: fees to protocol, model owners, datanet owners and datanets, datanets to contributors',
  })
  @ApiQuery({ name: 'asset', required: false, description: 'default: the asset with the most fees in the range' })
  @ApiQuery({
    name: 'top',
    required: false,
    description:
      '1-50, default 8: datanets and contributors drawn on their own; the rest are summed into "other". Contributors are named for operators only; for analysts all are summed into one node',
  })
  @ApiQuery(fromDoc)
  @ApiQuery(toDoc)
  @BadRequest()
  flow(@Req() request: Request, @Query() query: unknown) {
    const { asset, top, from, to } = parseParams(flowQuery, query);
    // What a contributor earned is individual: only an operator sees contributors named; an analyst, their sum.
    const operator = readerOf(request)?.scopes.some((scope) => scope.kind === 'operator') ?? false;
    return this.analytics.flow({
      ...checkRange({ from, to }),
      ...(asset ? { asset } : {}),
      top,
      contributorsTop: operator ? top : 0,
    });
  }
}

@ApiTags('status')
@Controller('v1')
export class StatusController {
  constructor(
    @Inject(StatusQueries) private readonly status: StatusQueries,
    @Inject(DlqDepths) private readonly dlqDepths: DlqDepths,
  ) {}

  @Get('digest')
  @ApiOperation({
    summary: 'The ledger digest (libs/ledger) with the chain heads and offsets it stands at, from one snapshot',
  })
  digest(@Query() query: unknown) {
    parseParams(noQuery, query);
    return this.status.digest();
  }

  @Get('lag')
  @ApiOperation({
    summary: 'Projection lag per partition: stored next offset, high watermark, applied events, last applied time',
  })
  lag(@Query() query: unknown) {
    parseParams(noQuery, query);
    return this.status.lag();
  }

  @Get('dlq')
  @ApiOperation({
    summary:
      "Every consumer group's DLQ depth: dead letters not re-driven yet, re-driven, and how far the count has read; at most LEDGER_API_DLQ_DEPTH_TTL_MS old",
  })
  dlq(@Query() query: unknown) {
    parseParams(noQuery, query);
    return this.dlqDepths.current();
  }

  @Get('freshness')
  @ApiOperation({
    summary:
      'Read-your-writes: does the ledger reflect the record at (topic, partition, offset)? For the inferences topic, pass inferenceId too',
  })
  @ApiQuery({ name: 'topic' })
  @ApiQuery({ name: 'partition' })
  @ApiQuery({ name: 'offset', description: 'the offset the gateway or producer returned, a decimal string' })
  @ApiQuery({ name: 'inferenceId', required: false, description: 'required with the inferences topic' })
  @ApiQuery({
    name: 'waitMs',
    required: false,
    description:
      'when not reflected yet, wait up to this long for it (at most LEDGER_API_FRESHNESS_WAIT_MS_MAX, 30000 by default) instead of asking again',
  })
  @BadRequest()
  @Unavailable()
  freshness(@Query() query: unknown, @Res({ passthrough: true }) response: Response) {
    const { waitMs, ...position } = parseParams(freshnessQuery, query);
    // A client that went away ends its wait: nothing is left waiting for nobody.
    const gone = new AbortController();
    response.once('close', () => gone.abort());
    return this.status.freshness(position, waitMs, gone.signal);
  }
}

@ApiTags('funding')
@Controller('v1')
export class FundingController {
  constructor(@Inject(FundingQueries) private readonly funding: FundingQueries) {}

  @Get('accounts/:account/funding')
  @ApiOperation({
    summary:
      "Backed credits of one account, per asset: earned, backed by producers' deposits, paid or in flight, payable, pending funding (earned but not backed), " +
      'held (backed, but its producer is in debt), and the producers it waits on with the amount each has not backed yet',
  })
  @ApiParam({ name: 'account', description: '<role>:<id>, e.g. contributor:alice' })
  @ApiOkResponse({
    description:
      'assets is empty for an account that earned nothing from any producer (a consumer, a settlement account)',
  })
  @NotFound()
  @BadRequest()
  @Unavailable()
  account(@Param('account') account: string, @Query() query: unknown) {
    parseParams(noQuery, query);
    return this.funding.account(parseParams(z.object({ account: accountParam }), { account }).account);
  }

  @Get('producers/:producer/funding')
  @ApiOperation({
    summary:
      'One inference producer, per asset: fees reported, credited, deposits, chargebacks, net deposits, shortfall (fees not paid in), prepaid, backed, paid or in flight, payable, held, debt',
  })
  @ApiParam({
    name: 'producer',
    description: "the producer's URI, URL-encoded, e.g. urn%3Atributary%3Aproducer%3Aacme",
  })
  @ApiOkResponse({ description: 'one line per asset the producer reported fees or paid money in' })
  @NotFound()
  @BadRequest()
  @Unavailable()
  producer(@Param('producer') producer: string, @Query() query: unknown) {
    parseParams(noQuery, query);
    return this.funding.producer(parseParams(z.object({ producer: idParam }), { producer }).producer);
  }

  @Get('funding')
  @ApiOperation({
    summary:
      "The treasury per asset (deposits, funded, backed, payable, held, debt, shortfall, treasury remainder), every producer's standing, and the funding " +
      'reconciliation: net deposits + debt = settled + in flight + backed unpaid + treasury remainder + prepaid, with the payout cash checked against the ledger accounts',
  })
  @ApiOkResponse({
    description:
      'reconciliation.holds is false, with problems naming the asset and the rule, when the funding does not add up',
  })
  @BadRequest()
  @Unavailable()
  overview(@Query() query: unknown) {
    parseParams(noQuery, query);
    return this.funding.overview();
  }
}
