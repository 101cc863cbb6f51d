// The reader asks a topic's end offsets and its offsets by timestamp at once, for every topic in one
// call each, and falls back to the end offset per partition where no record is stamped late enough.
// A stand-in for kafkajs's cluster, behind the Kafka client's private factory, counts the asks.
import type { Kafka } from 'kafkajs';
import { OffsetsByTimestampReader } from './kafkajs-offsets';

function clientWith(cluster: object): Kafka {
  return { [Symbol('private:Kafka:createCluster')]: () => cluster } as unknown as Kafka;
}

describe('OffsetsByTimestampReader', () => {
  it('asks the end offsets and the offsets by timestamp at once, each for every topic', async () => {
    const asks: Array<{ topics: string[]; timestamp: number | 'end' }> = [];
    let release!: () => void;
    const bothAsked = new Promise<void>((resolve) => (release = resolve));
    const cluster = {
      addMultipleTargetTopics: async () => undefined,
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => undefined,
      findTopicPartitionMetadata: () => [{ partitionId: 0 }, { partitionId: 1 }],
      fetchTopicsOffset: async (request: Array<{ topic: string; fromTimestamp?: number }>) => {
        asks.push({ topics: request.map(({ topic }) => topic), timestamp: request[0]!.fromTimestamp ?? 'end' });
        if (asks.length === 2) release();
        // Neither answers before the other was asked: one after the other, the call would never end.
        await bothAsked;
        return request.map(({ topic, fromTimestamp }) => ({
          topic,
          partitions: [
            { partition: 0, offset: fromTimestamp === undefined ? '9' : '4' },
            { partition: 1, offset: fromTimestamp === undefined ? '7' : '-1' },
          ],
        }));
      },
    };
    const reader = new OffsetsByTimestampReader(clientWith(cluster));
    expect(await reader.offsetsByTimestamp(['a', 'b'], 1_000)).toEqual([
      { topic: 'a', partition: 0, offset: '4' },
      { topic: 'a', partition: 1, offset: '7' },
      { topic: 'b', partition: 0, offset: '4' },
      { topic: 'b', partition: 1, offset: '7' },
    ]);
    expect(asks).toEqual(
      expect.arrayContaining([
        { topics: ['a', 'b'], timestamp: 'end' },
        { topics: ['a', 'b'], timestamp: 1_000 },
      ]),
    );
    expect(asks).toHaveLength(2);
  });

  it('refreshes the metadata before it throws a failure', async () => {
    let refreshed = 0;
    const cluster = {
      addMultipleTargetTopics: async () => undefined,
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => void (refreshed += 1),
      findTopicPartitionMetadata: () => [{ partitionId: 0 }],
      fetchTopicsOffset: async () => {
        throw new Error('This server is not the leader for that topic-partition');
      },
    };
    const reader = new OffsetsByTimestampReader(clientWith(cluster));
    await expect(reader.offsetsByTimestamp(['a'], 1)).rejects.toThrow('not the leader');
    expect(refreshed).toBe(1);
  });

  it('refuses a client without kafkajs private cluster factory, naming it', () => {
    expect(() => new OffsetsByTimestampReader({} as Kafka)).toThrow('private:Kafka:createCluster');
  });
});
