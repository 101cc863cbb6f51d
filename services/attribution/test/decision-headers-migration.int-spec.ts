// Proves migration 1764000000300 keeps every stored decision explainable: on a database whose decisions
// were stored with their headers as jsonb (the schema before it), the column becomes text and each row's
// headers read back equal, beside a row stored after the change. Real PostgreSQL.
import { DataSource } from 'typeorm';
import { ensureSchema, postgresOptions, CreateConsumerOffsets1764000000000 } from '@tributary/persistence';
import { createTestDatabase, type TestDatabase } from '@tributary/testing';
import { ATTRIBUTION_SCHEMA, dataSourceOptions } from '../src/database/data-source-options';
import { CreateAttributionState1764000000200 } from '../src/database/migrations/1764000000200-create-attribution-state';
import { copyDecisionRows } from '../src/decision/decision-copy';
import { DecisionStore } from '../src/decision/decision-store';

const HEADERS = { ce_id: 'attributed:before', ce_subject: 'inférence "before"', 'content-type': 'application/avro' };

describe('decision headers stored as jsonb, then migrated to text', () => {
  let database: TestDatabase;
  afterAll(async () => {
    await database?.drop();
  });

  it('reads back the headers of rows stored before and after the migration', async () => {
    database = await createTestDatabase('decision_headers');
    await ensureSchema(database.url, ATTRIBUTION_SCHEMA);
    const before = await new DataSource(
      postgresOptions({
        url: database.url,
        schema: ATTRIBUTION_SCHEMA,
        entities: [],
        migrations: [CreateConsumerOffsets1764000000000, CreateAttributionState1764000000200],
        poolSizeMax: 1,
      }),
    ).initialize();
    await before.query(
      `INSERT INTO decisions (inference_id, inference_partition, inference_offset, event_id, method, value, headers) VALUES ('before', 0, 0, 'attributed:before', 'm', '\\x01', $1::jsonb)`,
      [JSON.stringify(HEADERS)],
    );
    await before.destroy();

    const after = await new DataSource(dataSourceOptions(database.url, 2)).initialize();
    try {
      const [column] = await after.query(
        `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'decisions' AND column_name = 'headers'`,
        [ATTRIBUTION_SCHEMA],
      );
      expect(column.data_type).toBe('text');
      const afterHeaders = { ce_id: 'attributed:after', 'content-type': 'application/avro' };
      await after.transaction((manager) =>
        copyDecisionRows(manager, 1, [
          {
            inferenceId: 'after',
            inferenceOffset: 7n,
            eventId: 'attributed:after',
            method: 'm',
            value: Buffer.from([2]),
            headers: afterHeaders,
            contentHash: Buffer.alloc(32, 2),
          },
        ]),
      );
      const store = new DecisionStore(after);
      expect((await store.find('before'))?.headers).toEqual(HEADERS);
      // Migration 1764000000400 leaves a row decided before it without a content hash (a repeat of it is a re-delivery).
      expect(await after.query(`SELECT inference_id, content_hash FROM decisions ORDER BY inference_id`)).toEqual([
        { inference_id: 'after', content_hash: Buffer.alloc(32, 2) },
        { inference_id: 'before', content_hash: null },
      ]);
      expect(await store.find('after')).toEqual({
        inferenceId: 'after',
        method: 'm',
        value: Buffer.from([2]),
        headers: afterHeaders,
        inferencePartition: 1,
        inferenceOffset: 7n,
      });
    } finally {
      await after.destroy();
    }
  }, 60_000);
});
