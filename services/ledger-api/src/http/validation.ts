import { z } from 'zod';
import { ASSET_LENGTH_MAX, ID_LENGTH_MAX } from '@tributary/attribution';
import { ApiError, type Issue } from './api-error';

/**
 * Parses request parameters with a strict zod object: an unknown parameter is refused too, so every
 * parameter a caller sends has a stated limit. Errors name the parameter and the rule.
 */
export function parseParams<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw ApiError.badRequest(result.error.issues.flatMap((issue) => issuesOf(issue, input)));
}

function issuesOf(issue: z.core.$ZodIssue, input: unknown): Issue[] {
  const field = issue.path.map(String).join('.') || '(parameters)';
  const given = issue.path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
  if (issue.code !== 'unrecognized_keys' && issue.path.length > 0 && given === undefined)
    return [{ field, rule: 'required' }];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ field: key, rule: 'unknown-parameter' }));
    case 'too_big':
      return [{ field, rule: issue.origin === 'string' ? `max-length:${issue.maximum}` : `max:${issue.maximum}` }];
    case 'too_small':
      return [{ field, rule: issue.origin === 'string' ? `min-length:${issue.minimum}` : `min:${issue.minimum}` }];
    case 'invalid_type':
      return [{ field, rule: `type:${issue.expected}` }];
    case 'invalid_value':
      return [{ field, rule: `one-of:${issue.values.map(String).join('|')}` }];
    case 'invalid_format':
      return [{ field, rule: issue.message.startsWith('rule:') ? issue.message.slice(5) : `format:${issue.format}` }];
    case 'custom':
    case 'invalid_element':
    case 'invalid_key':
    case 'invalid_union':
    case 'not_multiple_of':
      return [{ field, rule: issue.message.startsWith('rule:') ? issue.message.slice(5) : issue.code }];
  }
}

/** Printable text without control characters: ids are echoed back in bodies and CSV. */
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

export const idParam = z.string().min(1).max(ID_LENGTH_MAX).regex(PRINTABLE, 'rule:printable');
/** Account ids are `<role>:<id>` (libs/attribution accounts.ts); the role is at most a few characters longer than an id. */
export const accountParam = z
  .string()
  .min(3)
  .max(ID_LENGTH_MAX + 32)
  .regex(/^[a-z-]{1,32}:[^\u0000-\u001f\u007f]+$/, 'rule:account-id');
export const assetParam = z.string().regex(new RegExp(`^[A-Za-z0-9._-]{1,${ASSET_LENGTH_MAX}}$`), 'rule:asset-code');
export const cursorParam = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/, 'rule:cursor');

export function limitParam(fallback: number, max: number) {
  return z.coerce.number().int().min(1).max(max).default(fallback);
}

/** An ISO 8601 time with a zone, as epoch milliseconds. */
export const timeParam = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, 'rule:iso-8601-time-with-zone')
  .transform((text) => Date.parse(text))
  .refine((ms) => Number.isFinite(ms), 'rule:iso-8601-time-with-zone');

/** A time range [from, to): both optional; when both are given `to` must be after `from`. */
export function checkRange(range: { from?: number | undefined; to?: number | undefined }): {
  fromMs?: number;
  toMs?: number;
} {
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from)
    throw ApiError.badRequest([{ field: 'to', rule: 'after:from' }]);
  return {
    ...(range.from !== undefined ? { fromMs: range.from } : {}),
    ...(range.to !== undefined ? { toMs: range.to } : {}),
  };
}
