export {
  computeEpochPayouts,
  payoutIdOf,
  DEFAULT_THRESHOLDS,
  EPOCH_MAX,
  BALANCES_PER_EPOCH_MAX,
  type PayableBalance,
  type PayoutThresholds,
  type PayableRole,
  type EpochPayout,
} from './epoch';
