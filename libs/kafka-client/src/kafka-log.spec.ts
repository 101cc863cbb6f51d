import { readFileSync } from 'node:fs';
import { logLevel } from 'kafkajs';
import { BOUNDED_RETRIES_WARNING, kafkaLogCreator } from './kafka-log';

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

  it('matches the warning kafkajs actually writes, so an upgrade that rewords it shows up here', () => {
    const source = readFileSync(require.resolve('kafkajs/src/producer/index.js'), 'utf8');
    expect(source).toContain(`'${BOUNDED_RETRIES_WARNING}'`);
  });
});
