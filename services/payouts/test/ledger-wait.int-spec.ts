// Proves the payouts service waits, quietly, for a ledger read model that does not exist yet: on a fresh
// database `npm start` may bring it up before the ledger projector has run its migrations. The wait is
// logged once and no saga step fails; once the projector's migrations have
// run, the steps start. Real PostgreSQL and KRaft broker, the service as its own OS process.
import { DataSource } from 'typeorm';
import { ensureSchema } from '@tributary/persistence';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  uniqueName,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { dataSourceOptions } from '../../ledger-projector/src/database/data-source-options';

const POLL_INTERVAL_MS = 200;
/** What a step failing on the missing ledger logged before: the worker's error, PostgreSQL's, the epoch closer's. */
const STEP_FAILED = /saga step failed|does not exist|start the ledger projector first/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the payouts service on a database without the ledger read model yet', () => {
  let database: TestDatabase;
  let payouts: ServiceProcess | undefined;
  afterAll(async () => {
    await payouts?.stop();
    await database?.drop();
  });

  it('waits for the ledger projector to create it, without a failed step, then starts its steps', async () => {
    database = await createTestDatabase('payouts_ledger_wait');
    payouts = startServiceProcess(
      'services/payouts/src/main.ts',
      {
        KAFKA_BROKERS: testBrokers().join(','),
        DATABASE_URL: database.url,
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('t')}.`,
        PAYOUTS_HTTP_PORT: '0',
        PAYOUTS_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      },
      'payouts-ledger-wait',
    );
    await eventually(() => expect(payouts!.output()).toMatch(/payouts ready/), 120_000, 250);
    await eventually(
      () =>
        expect(payouts!.output()).toMatch(
          /waiting for the ledger read model: ledger\.accounts, ledger\.checkpoints, ledger\.payouts, ledger\.consumer_offsets, ledger\.producer_funding, ledger\.producer_credits not created yet/,
        ),
      30_000,
      250,
    );
    // Several polls while the ledger is missing (the epoch auto-close is on by default, so its step would run too).
    await sleep(POLL_INTERVAL_MS * 10);
    expect(payouts.output()).not.toMatch(STEP_FAILED);
    expect(payouts.output().match(/waiting for the ledger read model/g)).toHaveLength(1);

    await ensureSchema(database.url, 'ledger');
    const ledger = await new DataSource(dataSourceOptions(database.url, 2)).initialize();
    await ledger.destroy();
    await eventually(
      () => expect(payouts!.output()).toMatch(/the ledger read model is there after \d+ s: saga steps start/),
      30_000,
      250,
    );
    await sleep(POLL_INTERVAL_MS * 10);
    expect(payouts.output()).not.toMatch(STEP_FAILED);
  }, 180_000);
});
