import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EPOCH_MAX, parseResolution } from '@tributary/payouts';
import { parseChargeback, parseDeposit } from '../funding/funding-input';
import { publishFunding } from '../funding/funding';
import { PAYOUTS_CONFIG, retryPolicyOf, thresholdsOf, type PayoutsConfig } from '../payouts.config';
import { PayoutsMetrics } from '../payouts-metrics';
import { OperatorTokenGuard } from './operator-token.guard';
import { closeEpoch, EpochOutOfOrderError, findEpoch } from '../saga/epoch-closer';
import { parsePayoutId, PayoutNotFoundError, ResolutionConflictError, resolveByOperator } from '../saga/reconciliation';
import { PAYOUT_PUBLISHER } from '../payout-publisher.token';
import type { PayoutPublisher } from '../saga/payout-publisher';
import { SagaStore } from '../saga/saga-store';
import { SagaWorker } from '../saga/saga-worker';
import { parseAccountIdInput, parseLimit, statementOf } from '../saga/statement';

/**
 * Participants read their statement and operators an epoch, with a read credential (ReadAccessGuard,
 * by the rules in libs/access READ_ROUTES); operators close an epoch, record the rail's answer for a
 * payout waiting for reconciliation, and record the treasury's funding (money a producer paid in, and
 * its chargebacks). Those are the writes, so OperatorTokenGuard lets them through only with the
 * operator token (PAYOUTS_OPERATOR_TOKEN); without one configured they are switched off.
 */
@Controller()
export class PayoutsController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(PAYOUTS_CONFIG) private readonly config: PayoutsConfig,
    @Inject(SagaWorker) private readonly worker: SagaWorker,
    @Inject(PayoutsMetrics) private readonly metrics: PayoutsMetrics,
    @Inject(PAYOUT_PUBLISHER) private readonly publisher: PayoutPublisher,
  ) {}

  @Get('accounts/:accountId/payouts')
  async statement(@Param('accountId') accountIdInput: string, @Query('limit') limitInput?: string) {
    const accountId = this.validate(() => parseAccountIdInput(accountIdInput));
    const limit = this.validate(() => parseLimit(limitInput));
    const payouts = await statementOf(this.dataSource, accountId, limit);
    return { accountId, payouts };
  }

  @Get('epochs/:epoch')
  async epoch(@Param('epoch') epochInput: string) {
    const epoch = this.validate(() => epochNumber(epochInput));
    const found = await findEpoch(this.dataSource, epoch);
    if (!found) throw new NotFoundException(`epoch: ${epoch} is not closed`);
    return found;
  }

  @Post('epochs/close')
  @HttpCode(200)
  @UseGuards(OperatorTokenGuard)
  async close(@Body() body: unknown) {
    const epochInput = (body as { epoch?: unknown } | undefined)?.epoch;
    const epoch =
      epochInput === undefined || epochInput === null ? undefined : this.validate(() => epochNumber(epochInput));
    try {
      const closed = await closeEpoch(
        this.dataSource,
        {
          ledgerSchema: this.config.PAYOUTS_LEDGER_SCHEMA,
          thresholds: thresholdsOf(this.config),
          rail: this.config.PAYOUTS_RAIL,
        },
        epoch,
        'operator:http',
      );
      if (closed.created) this.metrics.epochsClosed.inc({ trigger: 'operator' });
      this.worker.nudge();
      return closed;
    } catch (error) {
      if (error instanceof EpochOutOfOrderError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  /** The rail's definite answer for a payout in NEEDS_RECONCILIATION, with who checked, when and the evidence; once. */
  @Post('payouts/:payoutId/resolution')
  @HttpCode(200)
  @UseGuards(OperatorTokenGuard)
  async resolve(@Param('payoutId') payoutIdInput: string, @Body() body: unknown) {
    const payoutId = this.validate(() => parsePayoutId(payoutIdInput));
    const resolution = this.validate(() => parseResolution(body, Date.now()));
    try {
      const resolved = await resolveByOperator(
        new SagaStore(this.dataSource),
        payoutId,
        resolution,
        retryPolicyOf(this.config),
      );
      this.metrics.reconciled.inc({ source: 'operator', outcome: resolution.outcome });
      this.worker.nudge();
      return resolved;
    } catch (error) {
      if (error instanceof PayoutNotFoundError) throw new NotFoundException(error.message);
      if (error instanceof ResolutionConflictError) throw new ConflictException(error.message);
      throw error;
    }
  }

  /**
   * The treasury received money from an inference producer: publishes FundsDeposited on tributary.funding.
   * Body: {producer, asset, amountMinor (decimal string), railReference, eventId?, occurredAt?}. A retry
   * after a lost answer should pass the eventId of the first attempt; the ledger deduplicates on it.
   */
  @Post('funding/deposits')
  @HttpCode(201)
  @UseGuards(OperatorTokenGuard)
  async deposit(@Body() body: unknown) {
    const data = this.validate(() => parseDeposit(body));
    return publishFunding(this.publisher, 'FundsDeposited', data);
  }

  /** A producer's money was taken back (a chargeback): publishes FundsReversed, with reason and reversesEventId?. */
  @Post('funding/chargebacks')
  @HttpCode(201)
  @UseGuards(OperatorTokenGuard)
  async chargeback(@Body() body: unknown) {
    const data = this.validate(() => parseChargeback(body));
    return publishFunding(this.publisher, 'FundsReversed', data);
  }

  private validate<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}

export function epochNumber(value: unknown): number {
  const epoch = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1 || epoch > EPOCH_MAX)
    throw new RangeError(`epoch: must be an integer from 1 to ${EPOCH_MAX}`);
  return epoch;
}
