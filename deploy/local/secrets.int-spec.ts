// Proves issue 23's "secrets never shown": the gateway, payouts and ledger API run as their own processes
// with distinctive secrets configured (a database password, the ledger reader's password, a Kafka
// password, the payouts operator token and webhook secret) and are called with good and bad API keys,
// read credentials and tokens; other instances are started with a database they cannot reach, a database URL that does not
// parse, a Kafka password the broker refuses and an operator token that breaks its rule. Then everything
// every process printed, and the bodies of their answers, are searched for each secret's value: none may
// appear.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Client } from 'pg';
import { catalogFor, topicCatalog } from '@tributary/contracts';
import { localBrokerFiles } from '@tributary/config';
import { ensureTopics } from '@tributary/messaging';
import { scramSha256Verifier } from '@tributary/persistence';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  testKafkaName,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
} from '@tributary/testing';
import { keyRepository, post, scope } from '../../services/gateway/test/gateway-harness';
import { issueReadCredential } from '../../services/ledger-api/src/database/credentials';

/** A value no log line would hold by chance, so finding it means a leak. */
const distinctive = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;

const secrets = {
  databasePassword: distinctive('db-password'),
  unreachableDatabasePassword: distinctive('db-password-unreachable'),
  unparseableDatabasePassword: distinctive('db-password-unparseable'),
  readerPassword: distinctive('reader-password'),
  operatorToken: distinctive('operator-token'),
  wrongOperatorToken: distinctive('wrong-operator-token'),
  shortOperatorToken: `s${randomBytes(5).toString('hex')}`,
  webhookSecret: distinctive('webhook-secret'),
  wrongKafkaPassword: distinctive('kafka-password-wrong'),
  unknownApiKey: distinctive('tk_unknown'),
  unknownReadCredential: `trr_0123456789ab_${randomBytes(32).toString('base64url')}`,
  kafkaPassword: '',
  apiKey: '',
  readCredential: '',
};

const READY_TIMEOUT_MS = 90_000;

describe('secrets in what the services print', () => {
  const prefix = `${uniqueName('secrets')}.`;
  const readerRole = `t_secrets_reader_${randomBytes(4).toString('hex')}`;
  const processes: ServiceProcess[] = [];
  let database: TestDatabase;

  /** The test database's URL with a password in it; the local server trusts 127.0.0.1, so it is carried, not checked. */
  const withPassword = (url: string, password: string) => {
    const copy = new URL(url);
    copy.password = password;
    return copy.toString();
  };
  const withSql = async <T>(use: (sql: Client) => Promise<T>, url = database.url): Promise<T> => {
    const sql = new Client({ connectionString: url });
    await sql.connect();
    try {
      return await use(sql);
    } finally {
      await sql.end();
    }
  };
  const common = () => ({
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_USERNAME: 'operator',
    KAFKA_PASSWORD: secrets.kafkaPassword,
    // Empty means "not set": the password comes from the variable above, not the provisioner's file.
    KAFKA_PASSWORD_FILE: '',
    DATABASE_URL: withPassword(database.url, secrets.databasePassword),
    TRIBUTARY_TOPIC_PREFIX: prefix,
  });
  const start = (main: string, name: string, env: Record<string, string>) => {
    const instance = startServiceProcess(main, env, `secrets-${name}`);
    processes.push(instance);
    return instance;
  };
  const urlIn = (instance: ServiceProcess, ready: RegExp) =>
    eventually(() => {
      const match = ready.exec(instance.output());
      expect(match).not.toBeNull();
      return match![1]!.replace('[::1]', '127.0.0.1');
    }, READY_TIMEOUT_MS);
  const exited = (instance: ServiceProcess) =>
    eventually(() => expect(instance.child.exitCode ?? instance.child.signalCode).not.toBeNull(), READY_TIMEOUT_MS);

  beforeAll(async () => {
    database = await createTestDatabase('secrets');
    secrets.kafkaPassword = fs.readFileSync(localBrokerFiles(testKafkaName()).passwordFile('operator'), 'utf8').trim();
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(catalogFor(prefix)), 1));
    const keys = await keyRepository(database.url);
    secrets.apiKey = (await keys.repository.create(scope('secrets-producer'))).key;
    await keys.close();
    secrets.readCredential = (await issueReadCredential(database.url, ['participant:contributor:alice'])).key;
  });

  afterAll(async () => {
    await Promise.all(processes.map((instance) => instance.stop()));
    await database?.drop();
    // The reader role is the cluster's, not the database's: dropped from the maintenance database once its grants went.
    const maintenance = new URL(database.url);
    maintenance.pathname = '/postgres';
    await withSql((sql) => sql.query(`DROP ROLE IF EXISTS ${readerRole}`), maintenance.toString());
  });

  it('shows none of them, whether the requests and start-ups succeed or fail', async () => {
    /** The bodies of the services' answers: an error message must not quote a credential either. */
    const answers: string[] = [];
    const gateway = start('services/gateway/src/main.ts', 'gateway', {
      ...common(),
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_KEY_CACHE_TTL_MS: '0',
      GATEWAY_INSTANCE_ID: uniqueName('secrets-gw'),
    });
    const payouts = start('services/payouts/src/main.ts', 'payouts', {
      ...common(),
      PAYOUTS_HTTP_PORT: '0',
      PAYOUTS_RAIL: 'webhook',
      PAYOUTS_WEBHOOK_URL: 'http://127.0.0.1:9/pay',
      PAYOUTS_WEBHOOK_SECRET: secrets.webhookSecret,
      PAYOUTS_OPERATOR_TOKEN: secrets.operatorToken,
      PAYOUTS_EPOCH_AUTO_CLOSE: 'false',
    });
    const ledgerApi = start('services/ledger-api/src/main.ts', 'ledger-api', {
      ...common(),
      LEDGER_API_HTTP_PORT: '0',
      LEDGER_API_READER_ROLE: readerRole,
      LEDGER_API_READER_PASSWORD: secrets.readerPassword,
    });
    // Start-ups that fail: a database nobody listens on, a Kafka password the broker refuses, a bad token.
    const unreachable = start('services/ledger-projector/src/main.ts', 'unreachable-db', {
      ...common(),
      LEDGER_PROJECTOR_HTTP_PORT: '0',
      DATABASE_URL: `postgres://owner:${secrets.unreachableDatabasePassword}@127.0.0.1:1/tributary`,
    });
    const refused = start('services/gateway/src/main.ts', 'refused-kafka', {
      ...common(),
      GATEWAY_HTTP_PORT: '0',
      KAFKA_PASSWORD: secrets.wrongKafkaPassword,
    });
    const badToken = start('services/payouts/src/main.ts', 'bad-token', {
      ...common(),
      PAYOUTS_HTTP_PORT: '0',
      PAYOUTS_OPERATOR_TOKEN: secrets.shortOperatorToken,
    });
    const unparseable = start('services/ledger-api/src/main.ts', 'unparseable-db', {
      ...common(),
      LEDGER_API_HTTP_PORT: '0',
      DATABASE_URL: `postgres://owner:${secrets.unparseableDatabasePassword}@[db/tributary`,
    });

    const gatewayUrl = await urlIn(gateway, /gateway ready at (http:\/\/[^ ]+) /);
    const event = { eventId: 'evt-secrets-1', occurredAt: Date.now(), datanetId: 'dn-secrets', ownerId: 'olga' };
    const datanet = { ...event, name: 'Secrets', license: 'CC-BY-4.0', curatorShareBps: 1_000 };
    expect((await post(`${gatewayUrl}/events/DatanetCreated`, datanet, secrets.apiKey)).status).toBe(202);
    const viaHeader = await post(`${gatewayUrl}/events/DatanetCreated`, { ...datanet, eventId: 'evt-secrets-2' }, '', {
      'x-api-key': secrets.apiKey,
    });
    expect(viaHeader.status).toBe(202);
    const badBody = await post(`${gatewayUrl}/events/DatanetCreated`, { bad: true }, secrets.apiKey);
    const badKey = await post(`${gatewayUrl}/events/DatanetCreated`, datanet, secrets.unknownApiKey);
    expect([badBody.status, badKey.status]).toEqual([400, 401]);
    answers.push(JSON.stringify(badBody.body), JSON.stringify(badKey.body));

    const payoutsUrl = await urlIn(payouts, /statement at (http:\/\/[^/\s]+)/);
    const deposit = (token: string) =>
      fetch(`${payoutsUrl}/funding/deposits`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ amount: 'not a deposit' }),
      }).then(async (response) => {
        answers.push(await response.text());
        return response.status;
      });
    expect(await deposit(secrets.operatorToken)).toBe(400);
    expect(await deposit(secrets.wrongOperatorToken)).toBe(403);

    const apiUrl = await urlIn(ledgerApi, /ledger-api ready at (http:\/\/\S+) as role/);
    const read = (credential: string, path: string) =>
      fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${credential}` } }).then(async (response) => {
        answers.push(await response.text());
        return response.status;
      });
    expect(await read(secrets.apiKey, '/v1/accounts')).toBe(401);
    expect(await read(secrets.unknownReadCredential, '/v1/accounts')).toBe(401);
    expect(await read(secrets.readCredential, '/v1/accounts')).toBe(403);
    expect(await read(secrets.readCredential, '/v1/accounts/contributor:alice')).not.toBe(401);
    // The owner step sent PostgreSQL a verifier, not the password, and it is the one the server would make.
    const stored = await withSql((sql) =>
      sql.query<{ verifier: string }>('SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1', [readerRole]),
    );
    const salt = Buffer.from(/^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(stored.rows[0]!.verifier)![1]!, 'base64');
    expect(stored.rows[0]!.verifier).toBe(scramSha256Verifier(secrets.readerPassword, salt));

    await Promise.all([exited(refused), exited(badToken), exited(unparseable)]);
    expect(unparseable.output()).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(badToken.output()).toContain('PAYOUTS_OPERATOR_TOKEN: must be at least 16 characters');
    expect(refused.output()).toContain('KAFKA_USERNAME / KAFKA_PASSWORD: the broker refused the credentials');
    // The projector may retry the database for a while; what it printed by then is what is searched.
    await eventually(() => expect(unreachable.output()).toMatch(/ECONNREFUSED|database/i), READY_TIMEOUT_MS);
    await Promise.all(processes.map((instance) => instance.stop()));

    const printed = [...processes.map((instance) => instance.output()), ...answers].join('\n');
    const shown = Object.entries(secrets).filter(([, value]) => value !== '' && printed.includes(value));
    expect(shown.map(([name]) => name)).toEqual([]);
  }, 180_000);
});
