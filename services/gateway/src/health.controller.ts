import { kafkaClientOptions } from '@tributary/config';
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaClient, KAFKA_RETRY_DEFAULT } from '@tributary/kafka-client';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Liveness for supervisors; readiness only while both Kafka and the database answer, since an ack
 * needs the broker and every request needs the key and idempotency tables.
 */
@Controller('health')
export class HealthController {
  private readonly kafka: Kafka;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly dataSource: DataSource,
  ) {
    this.kafka = createKafkaClient({
      ...kafkaClientOptions(config, `${config.KAFKA_CLIENT_ID}-health`),
      logLevel: logLevel.NOTHING,
      connectionTimeoutMs: CHECK_TIMEOUT_MS,
      requestTimeoutMs: CHECK_TIMEOUT_MS,
      retry: { ...KAFKA_RETRY_DEFAULT, retries: 0 },
    });
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const [kafka, database] = await Promise.all([this.checkKafka(), this.checkDatabase()]);
    const body = {
      status: kafka.up && database.up ? 'ok' : 'unavailable',
      kafka: kafka.detail,
      database: database.detail,
    };
    if (!kafka.up || !database.up) throw new ServiceUnavailableException(body);
    return body;
  }

  private async checkKafka(): Promise<{ up: boolean; detail: unknown }> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return { up: true, detail: { brokers: cluster.brokers.length } };
    } catch (error) {
      return { up: false, detail: (error as Error).message };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async checkDatabase(): Promise<{ up: boolean; detail: unknown }> {
    try {
      await this.dataSource.query('SELECT 1');
      return { up: true, detail: 'up' };
    } catch (error) {
      return { up: false, detail: (error as Error).message };
    }
  }
}
