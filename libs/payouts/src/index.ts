export {
  computeEpochPayouts,
  payoutIdOf,
  DEFAULT_THRESHOLDS,
  EPOCH_MAX,
  PAYOUT_AMOUNT_MAX,
  PAYOUT_ID_KEY_BYTES,
  BALANCES_PER_EPOCH_MAX,
  type PayableBalance,
  type PayoutThresholds,
  type EpochPayout,
} from './epoch';
export { capToBacked, payableBalances, type UnappliedRequest } from './payable';
export {
  evolveSaga,
  retryDelayMs,
  isTerminal,
  PLANNED_SAGA,
  TERMINAL_STATUSES,
  SagaTransitionError,
  type SagaStatus,
  type SagaState,
  type SagaObservation,
  type RetryPolicy,
} from './saga';
export { appliedAsPlanned, reservationMismatch, type PayoutTerms, type ReservationMismatch } from './reservation';
export {
  signWebhook,
  verifyWebhookSignature,
  WebhookVerifierConfigError,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_SECONDS_DEFAULT,
  WEBHOOK_TOLERANCE_SECONDS_MIN,
  WEBHOOK_TOLERANCE_SECONDS_MAX,
  type HeaderValue,
  type WebhookRequestParts,
  type WebhookVerifyOptions,
  type WebhookVerification,
  type WebhookRejection,
} from './webhook-signature';
export { paymentAnswer, statusAnswer, RAIL_REFERENCE, type RailAnswer } from './rail-answer';
export { parseResolution, RESOLUTION_TEXT_MAX, type Resolution } from './resolution';
