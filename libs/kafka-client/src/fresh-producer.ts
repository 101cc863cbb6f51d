import type { Producer } from 'kafkajs';

/**
 * A kafkajs idempotent producer that is never used again after a failed send. RecordSender (the
 * producer client and the gateway) and the consumers' dead-letter producer go through one; the
 * transactional processor (libs/messaging) drops a partition's producer after any failure likewise.
 *
 * When a produce request fails, kafkajs takes back the sequence numbers of the whole request, even of
 * records the broker had appended (a request refused for one partition and taken for another, a leader
 * that appended and died before it answered). The same producer's next record to such a partition then
 * carries the sequence number of a record already in the log, and the broker, taking it for a retry of
 * that one, answers with that record's offset and stores nothing: an acknowledgement for a record
 * Kafka never has. So after any failed use the producer is disconnected, and the next use connects a
 * new one: a new producer id (with a transactional id, a new epoch that fences the old one), whose
 * records are never mistaken for earlier ones.
 */
export class FreshAfterFailure {
  private current: Promise<Producer> | null = null;

  /** `create` makes a new, unconnected producer; this connects it. */
  constructor(private readonly create: () => Producer) {}

  /** Runs `send` with the current producer (connecting one first when there is none); a failure retires it. */
  async use<T>(send: (producer: Producer) => Promise<T>): Promise<T> {
    const connected = this.producer();
    const producer = await connected;
    try {
      return await send(producer);
    } catch (error) {
      if (this.current === connected) this.current = null;
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /** Connects the first producer now, so a broker that cannot be reached shows at start. */
  async ready(): Promise<void> {
    await this.producer();
  }

  async disconnect(): Promise<void> {
    const connected = this.current;
    this.current = null;
    const producer = await connected?.catch(() => null);
    if (producer) await producer.disconnect();
  }

  private producer(): Promise<Producer> {
    if (this.current === null) {
      const connecting = connectOrDispose(this.create());
      this.current = connecting;
      // A failed connect is not kept: the next use connects again.
      connecting.catch(() => {
        if (this.current === connecting) this.current = null;
      });
    }
    return this.current;
  }
}

async function connectOrDispose(producer: Producer): Promise<Producer> {
  try {
    await producer.connect();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw error;
  }
  return producer;
}
