// Proves FreshAfterFailure's rule without a broker: a producer serves every use until one fails, is
// then disconnected and never used again, and the next use connects a new one; a failed connect is not
// kept; a late failure of an old producer does not retire its successor.
import type { Producer } from 'kafkajs';
import { FreshAfterFailure } from './fresh-producer';

interface FakeProducer {
  readonly id: number;
  connected: boolean;
  disconnects: number;
}

function factory(connectFails: (id: number) => boolean = () => false) {
  const made: FakeProducer[] = [];
  const create = () => {
    const fake: FakeProducer = { id: made.length + 1, connected: false, disconnects: 0 };
    made.push(fake);
    return {
      fake,
      connect: async () => {
        if (connectFails(fake.id)) throw new Error(`connect ${fake.id} refused`);
        fake.connected = true;
      },
      disconnect: async () => {
        fake.connected = false;
        fake.disconnects += 1;
      },
    } as unknown as Producer;
  };
  return { made, create };
}
const idOf = (producer: Producer) => (producer as unknown as { fake: FakeProducer }).fake.id;
const failing = async () => {
  throw new Error('send failed');
};

describe('FreshAfterFailure', () => {
  it('keeps one producer while sends succeed', async () => {
    const { made, create } = factory();
    const producers = new FreshAfterFailure(create);
    await producers.ready();
    expect(await producers.use(async (producer) => idOf(producer))).toBe(1);
    expect(await producers.use(async (producer) => idOf(producer))).toBe(1);
    expect(made).toHaveLength(1);
    expect(made[0]!.connected).toBe(true);
  });

  it('disconnects a producer whose send failed and sends the next with a new one', async () => {
    const { made, create } = factory();
    const producers = new FreshAfterFailure(create);
    await expect(producers.use(failing)).rejects.toThrow('send failed');
    expect(made[0]).toMatchObject({ connected: false, disconnects: 1 });
    expect(await producers.use(async (producer) => idOf(producer))).toBe(2);
    expect(made[1]!.connected).toBe(true);
  });

  it('does not keep a producer that failed to connect', async () => {
    const { made, create } = factory((id) => id === 1);
    const producers = new FreshAfterFailure(create);
    await expect(producers.ready()).rejects.toThrow('connect 1 refused');
    expect(made[0]!.disconnects).toBe(1);
    expect(await producers.use(async (producer) => idOf(producer))).toBe(2);
  });

  it('lets an old producer fail late without retiring its successor', async () => {
    const { create } = factory();
    const producers = new FreshAfterFailure(create);
    let failSlowly!: (error: Error) => void;
    const slow = producers.use(() => new Promise<void>((_resolve, reject) => (failSlowly = reject)));
    await expect(producers.use(failing)).rejects.toThrow('send failed');
    expect(await producers.use(async (producer) => idOf(producer))).toBe(2);
    failSlowly(new Error('late failure'));
    await expect(slow).rejects.toThrow('late failure');
    expect(await producers.use(async (producer) => idOf(producer))).toBe(2);
  });

  it('disconnects the current producer, and the next use connects again', async () => {
    const { made, create } = factory();
    const producers = new FreshAfterFailure(create);
    await producers.ready();
    await producers.disconnect();
    expect(made[0]).toMatchObject({ connected: false, disconnects: 1 });
    expect(await producers.use(async (producer) => idOf(producer))).toBe(2);
  });
});
