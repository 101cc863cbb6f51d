import type { ValueTransformer } from 'typeorm';

/** pg returns int8 columns as strings; money stays bigint from the column to the domain and back. */
export const bigintTransformer: ValueTransformer = {
  to: (value: bigint | null | undefined) => (value === null || value === undefined ? value : value.toString()),
  from: (value: string | null) => (value === null ? null : BigInt(value)),
};
