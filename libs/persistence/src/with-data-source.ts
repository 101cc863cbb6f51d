import { DataSource, type DataSourceOptions } from 'typeorm';
import { ensureSchema } from './postgres-options';

/**
 * For one-shot commands (operator CLIs): makes sure the service's schema exists, opens a data source
 * with its migrations, runs `use`, and always closes the pool again.
 */
export async function withDataSource<T>(
  url: string,
  schema: string,
  options: DataSourceOptions,
  use: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  await ensureSchema(url, schema);
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    return await use(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
