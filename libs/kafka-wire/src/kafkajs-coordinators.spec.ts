import {
  rememberingCoordinators,
  type CoordinatorBroker,
  type CoordinatorCluster,
  type CoordinatorQuery,
} from './kafkajs-coordinators';

const NOT_COORDINATOR = Object.assign(new Error('not the coordinator'), { type: 'NOT_COORDINATOR_FOR_GROUP' });

/** A broker of the fake cluster: `request` fails with `failing` while it is set. */
class FakeBroker implements CoordinatorBroker {
  failing: Error | null = null;
  constructor(readonly nodeId: number) {}
  async request(): Promise<string> {
    if (this.failing !== null) throw this.failing;
    return `answered by ${this.nodeId}`;
  }
}

/** A cluster whose own lookup (the one kafkajs has) says `coordinator` and counts its asks. */
class FakeCluster implements CoordinatorCluster {
  asks: CoordinatorQuery[] = [];
  coordinator = 1;
  readonly brokers = new Map([1, 2].map((nodeId) => [nodeId, new FakeBroker(nodeId)]));
  findGroupCoordinator = rememberingCoordinators(async function (this: CoordinatorCluster, query) {
    const cluster = this as FakeCluster;
    cluster.asks.push(query);
    return cluster.brokers.get(cluster.coordinator)!;
  });
  async findBroker({ nodeId }: { nodeId: number }): Promise<FakeBroker> {
    const broker = this.brokers.get(nodeId);
    if (broker === undefined) throw new Error(`broker ${nodeId} not found`);
    return broker;
  }
}

const TRANSACTION = 1;

describe('the remembered coordinator lookup', () => {
  it('asks the cluster once per coordinator key, however many requests follow', async () => {
    const cluster = new FakeCluster();
    for (let i = 0; i < 5; i += 1) {
      const transactions = await cluster.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: TRANSACTION });
      const group = await cluster.findGroupCoordinator({ groupId: 'group-a' });
      await expect((transactions as FakeBroker).request()).resolves.toBe('answered by 1');
      await expect((group as FakeBroker).request()).resolves.toBe('answered by 1');
    }
    expect(cluster.asks).toEqual([{ groupId: 'tx-1', coordinatorType: TRANSACTION }, { groupId: 'group-a' }]);
  });

  it('keeps a transactional id and a group of the same name apart', async () => {
    const cluster = new FakeCluster();
    await cluster.findGroupCoordinator({ groupId: 'same', coordinatorType: TRANSACTION });
    await cluster.findGroupCoordinator({ groupId: 'same' });
    expect(cluster.asks).toHaveLength(2);
  });

  it('keeps each client apart: one client asking does not answer for another', async () => {
    const first = new FakeCluster();
    const second = new FakeCluster();
    second.coordinator = 2;
    await first.findGroupCoordinator({ groupId: 'group-a' });
    const found = await second.findGroupCoordinator({ groupId: 'group-a' });
    expect(found.nodeId).toBe(2);
    expect(second.asks).toHaveLength(1);
  });

  it('forgets a coordinator whose request failed, before the caller sees the error, and asks again', async () => {
    const cluster = new FakeCluster();
    const stale = (await cluster.findGroupCoordinator({ groupId: 'group-a' })) as FakeBroker;
    // The coordinator moves: the old one answers NOT_COORDINATOR.
    cluster.coordinator = 2;
    cluster.brokers.get(1)!.failing = NOT_COORDINATOR;
    await expect(stale.request()).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    const found = (await cluster.findGroupCoordinator({ groupId: 'group-a' })) as FakeBroker;
    expect(found.nodeId).toBe(2);
    await expect(found.request()).resolves.toBe('answered by 2');
    expect(cluster.asks).toHaveLength(2);
  });

  it('keeps a coordinator that answered as the coordinator, and forgets one that could not answer', async () => {
    const cluster = new FakeCluster();
    const broker = cluster.brokers.get(1)!;
    const found = (await cluster.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: TRANSACTION })) as FakeBroker;
    // The previous transaction's markers are still being written: the coordinator itself says so.
    broker.failing = Object.assign(new Error('concurrent'), { type: 'CONCURRENT_TRANSACTIONS' });
    await expect(found.request()).rejects.toThrow('concurrent');
    await cluster.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: TRANSACTION });
    expect(cluster.asks).toHaveLength(1);
    // The connection dropped: no answer at all.
    broker.failing = Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError' });
    await expect(found.request()).rejects.toThrow('Connection closed');
    await cluster.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: TRANSACTION });
    expect(cluster.asks).toHaveLength(2);
  });

  it('asks again when the remembered broker is gone from the client', async () => {
    const cluster = new FakeCluster();
    await cluster.findGroupCoordinator({ groupId: 'group-a' });
    cluster.brokers.delete(1);
    cluster.brokers.set(3, new FakeBroker(3));
    cluster.coordinator = 3;
    const found = await cluster.findGroupCoordinator({ groupId: 'group-a' });
    expect(found.nodeId).toBe(3);
    expect(cluster.asks).toHaveLength(2);
  });

  it('does not forget a newer coordinator when a request to an older one fails late', async () => {
    const cluster = new FakeCluster();
    const old = (await cluster.findGroupCoordinator({ groupId: 'group-a' })) as FakeBroker;
    cluster.coordinator = 2;
    cluster.brokers.get(1)!.failing = NOT_COORDINATOR;
    await expect(old.request()).rejects.toThrow();
    await cluster.findGroupCoordinator({ groupId: 'group-a' });
    // A second request in flight on the old coordinator fails after the new one was found.
    await expect(old.request()).rejects.toThrow();
    await cluster.findGroupCoordinator({ groupId: 'group-a' });
    expect(cluster.asks).toHaveLength(2);
  });
});
