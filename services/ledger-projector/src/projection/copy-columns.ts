import type { CopyColumn, CopyType } from '@tributary/persistence';

const column = (name: string, type: CopyType): CopyColumn => ({ name, type });

/** The column lists of the tables the projector writes with COPY, in row order, with the migration's types. */
export const COPY_COLUMNS = {
  appliedEvents: [
    column('event_id', 'text'),
    column('source_topic', 'text'),
    column('source_partition', 'int4'),
    column('source_offset', 'int8'),
    column('content_hash', 'bytea'),
  ],
  ledgerEntries: [
    column('source_topic', 'text'),
    column('source_partition', 'int4'),
    column('chain_seq', 'int8'),
    column('transaction_id', 'text'),
    column('posting_index', 'int2'),
    column('account', 'text'),
    column('asset', 'text'),
    column('amount_minor', 'int8'),
    column('source_event_id', 'text'),
    column('source_offset', 'int8'),
    column('hash', 'bytea'),
  ],
  inferences: [
    column('inference_id', 'text'),
    column('event_id', 'text'),
    column('inference_event_id', 'text'),
    column('model_id', 'text'),
    column('consumer_id', 'text'),
    column('asset', 'text'),
    column('fee_minor', 'int8'),
    column('policy_version', 'int4'),
    column('source_topic', 'text'),
    column('source_partition', 'int4'),
    column('source_offset', 'int8'),
  ],
  contributionCredits: [
    column('inference_id', 'text'),
    column('account', 'text'),
    column('contribution_id', 'text'),
    column('datanet_id', 'text'),
    column('score_ppm', 'int8'),
    column('asset', 'text'),
    column('amount_minor', 'int8'),
  ],
} as const;
