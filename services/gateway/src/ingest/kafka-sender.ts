// The gateway's Kafka producers. The gateway speaks for many producers, and each record's ce_source names
// the producer identity its API key is bound to, so it encodes with toRecord() and sends with the shared
// RecordSender (libs/producer), adding what an HTTP service needs: short bounded retries and a 503.
import type { OutboundRecord } from '@tributary/contracts';
import { RecordSender, RecordTooLargeError, type PublishResult, type RecordSenderOptions } from '@tributary/producer';
import { KafkaUnavailableError } from './rejection';

export interface KafkaSenderOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ackTimeoutMs: number;
  /** With one, every send is one Kafka transaction: all of its records or none become visible. */
  readonly transactionalId?: string;
  /** What one produce request may hold; larger sends are split (RecordSender). */
  readonly requestBytesMax?: number;
  readonly ssl?: RecordSenderOptions['ssl'];
  readonly sasl?: RecordSenderOptions['sasl'];
}

/*
 * A stopped broker must turn into a 503 quickly, not hold a request: a few quick retries, then give up.
 * (After a send that gave up, RecordSender sends the next with a new producer: the failed one's
 * sequence numbers are in doubt.) Short first retries matter for transactions: right after a commit
 * the broker answers the next transaction's first request with CONCURRENT_TRANSACTIONS until the
 * markers are written.
 */
const RETRY = { retries: 6, initialRetryTime: 20, maxRetryTime: 1_000 };
const CONNECTION_TIMEOUT_MS = 1_000;

export class KafkaSender {
  private constructor(private readonly sender: RecordSender) {}

  static async connect(options: KafkaSenderOptions): Promise<KafkaSender> {
    try {
      return new KafkaSender(
        await RecordSender.connect({ ...options, retry: RETRY, connectionTimeoutMs: CONNECTION_TIMEOUT_MS }),
      );
    } catch (error) {
      throw new KafkaUnavailableError(`Kafka producer could not connect: ${(error as Error).message}`);
    }
  }

  /** Sends the records (in one transaction when transactional); resolves once Kafka acknowledged all of them. */
  async send(records: readonly OutboundRecord[]): Promise<PublishResult[]> {
    try {
      return await this.sender.send(records);
    } catch (error) {
      // Refused before anything was sent (the ingest service checks sizes first, so this is a backstop): the producer is fine.
      if (error instanceof RecordTooLargeError) throw error;
      throw new KafkaUnavailableError(`Kafka did not acknowledge: ${(error as Error).message}`);
    }
  }

  async disconnect(): Promise<void> {
    await this.sender.disconnect().catch(() => undefined);
  }
}
