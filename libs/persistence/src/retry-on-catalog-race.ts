import { DataSource, type DataSourceOptions } from 'typeorm';

/** PostgreSQL's SQLSTATE for a transaction it aborted to break a deadlock. */
export const DEADLOCK_DETECTED = '40P01';
/** Two sessions updated one catalog row at once (two grants on one object): PostgreSQL's internal error, by its message. */
const CONCURRENT_CATALOG_UPDATE = 'tuple concurrently updated';

export interface CatalogRaceRetry {
  /** Runs of the step in all, the first included. */
  readonly attemptsMax: number;
  /** Wait before the second run; doubled before each run after it. */
  readonly backoffMs: number;
}

const DEFAULT_RETRY: CatalogRaceRetry = { attemptsMax: 6, backoffMs: 100 };

/**
 * Whether PostgreSQL refused the statement only because another session's DDL or grant ran at the same
 * moment: a deadlock it broke, or a catalog row two sessions updated at once. A pg error, or TypeORM's
 * wrapping of one.
 */
export function isCatalogRace(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, driverError } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: { code?: unknown; message?: unknown };
  };
  const raced = (errorCode: unknown, errorMessage: unknown) =>
    errorCode === DEADLOCK_DETECTED ||
    (typeof errorMessage === 'string' && errorMessage.includes(CONCURRENT_CATALOG_UPDATE));
  return raced(code, message) || (driverError !== undefined && raced(driverError.code, driverError.message));
}

/**
 * Runs a step whose transactions race another service's DDL (start-up migrations and grants on a fresh
 * database, as `npm start` starts every service at once) and runs it again, with backoff, when
 * PostgreSQL refused it for that race alone. The step must be safe to run again (its transaction rolled
 * back); any other error, or the last attempt's, is thrown as it is.
 */
export async function retryOnCatalogRace<T>(
  step: () => Promise<T>,
  retry: CatalogRaceRetry = DEFAULT_RETRY,
): Promise<T> {
  if (!Number.isInteger(retry.attemptsMax) || retry.attemptsMax < 1)
    throw new RangeError(`retryOnCatalogRace: attemptsMax must be a positive integer, got ${retry.attemptsMax}`);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= retry.attemptsMax || !isCatalogRace(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, retry.backoffMs * 2 ** (attempt - 1)));
    }
  }
}

/**
 * A data source initialised, its migrations run, again from a fresh data source when PostgreSQL refused
 * a migration only for a race with another service's DDL or grants (the ledger projector's migrations
 * beside ledger-api's grants on the same schema, on a fresh database). TypeORM closes a data source whose
 * initialisation failed, and each migration runs in its own transaction, so a second run resumes at the
 * migration that lost the race.
 */
export function initializeDataSource(
  options: DataSourceOptions,
  retry: CatalogRaceRetry = DEFAULT_RETRY,
): Promise<DataSource> {
  return retryOnCatalogRace(() => new DataSource(options).initialize(), retry);
}
