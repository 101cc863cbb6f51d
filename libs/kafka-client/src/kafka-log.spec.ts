import { readFileSync } from 'node:fs';
import { logLevel } from 'kafkajs';
import { BOUNDED_RETRIES_WARNING, kafkaLogCreator, retriedKafkaError } from './kafka-log';

describe('kafkaLogCreator', () => {
  const log = kafkaLogCreator(logLevel.INFO);
  const entry = (level: logLevel, label: string, message: string, extra: Record<string, unknown> = {}) => ({
    namespace: 'Producer',
    level,
    label,
    log: { timestamp: '2026-12-01T00:00:00.000Z', logger: 'kafkajs', message, ...extra },
  });
  let spies: jest.SpyInstance[];

  beforeEach(() => {
    spies = (['error', 'warn', 'info', 'log'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation(() => undefined),
    );
  });
  afterEach(() => spies.forEach((spy) => spy.mockRestore()));

  it("drops kafkajs's warning about an idempotent producer's bounded retries", () => {
    log(entry(logLevel.WARN, 'WARN', BOUNDED_RETRIES_WARNING));
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('writes every other entry as kafkajs does: one JSON line, the namespace in the message, by level', () => {
    log(entry(logLevel.ERROR, 'ERROR', 'Response Metadata(key: 3, version: 6)', { broker: '127.0.0.1:9092' }));
    log(entry(logLevel.WARN, 'WARN', 'Some other warning'));
    const [error, warn] = spies;
    expect(JSON.parse(error!.mock.calls[0]![0] as string)).toEqual({
      level: 'ERROR',
      timestamp: '2026-12-01T00:00:00.000Z',
      logger: 'kafkajs',
      message: '[Producer] Response Metadata(key: 3, version: 6)',
      broker: '127.0.0.1:9092',
    });
    expect(JSON.parse(warn!.mock.calls[0]![0] as string)).toMatchObject({
      level: 'WARN',
      message: '[Producer] Some other warning',
    });
  });

  it("writes at WARN, with the error's type, an error answer kafkajs retries", () => {
    const concurrent =
      'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
    log(entry(logLevel.ERROR, 'ERROR', `Failed to send messages: ${concurrent}`, { retryCount: 0, retryTime: 21 }));
    log({
      ...entry(logLevel.ERROR, 'ERROR', 'Response AddPartitionsToTxn(key: 24, version: 1)', { error: concurrent }),
      namespace: 'Connection',
    });
    const [error, warn] = spies;
    expect(error).not.toHaveBeenCalled();
    expect(warn!.mock.calls.map(([line]) => JSON.parse(line as string) as unknown)).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: `[Producer] Failed to send messages: ${concurrent}`,
        retryCount: 0,
        retriableError: 'CONCURRENT_TRANSACTIONS',
      }),
      expect.objectContaining({
        level: 'WARN',
        message: '[Connection] Response AddPartitionsToTxn(key: 24, version: 1)',
        error: concurrent,
        retriableError: 'CONCURRENT_TRANSACTIONS',
      }),
    ]);
  });

  it('keeps at ERROR an error kafkajs does not retry, and any other error', () => {
    const denied = 'Not authorized to access topics: [Topic authorization failed]';
    log(entry(logLevel.ERROR, 'ERROR', `Failed to send messages: ${denied}`));
    log(entry(logLevel.ERROR, 'ERROR', 'Response Produce(key: 0, version: 7)', { error: denied }));
    log(entry(logLevel.ERROR, 'ERROR', '[Runner] Crash: something else'));
    const [error, warn] = spies;
    expect(warn).not.toHaveBeenCalled();
    expect(error!.mock.calls.map(([line]) => (JSON.parse(line as string) as { level: string }).level)).toEqual([
      'ERROR',
      'ERROR',
      'ERROR',
    ]);
    expect(retriedKafkaError({ message: 'x', error: denied })).toBeUndefined();
  });

  it('matches the warning kafkajs actually writes, so an upgrade that rewords it shows up here', () => {
    const source = readFileSync(require.resolve('kafkajs/src/producer/index.js'), 'utf8');
    expect(source).toContain(`'${BOUNDED_RETRIES_WARNING}'`);
  });
});
