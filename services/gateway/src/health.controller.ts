import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';

/** Liveness for supervisors; readiness only while Kafka answers, since an ack needs the broker. */
@Controller('health')
export class HealthController {
  private readonly kafka: Kafka;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.kafka = new Kafka({ clientId: `${config.KAFKA_CLIENT_ID}-health`, brokers: config.KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return { status: 'ok', kafka: { brokers: cluster.brokers.length } };
    } catch (error) {
      throw new ServiceUnavailableException({ status: 'unavailable', kafka: (error as Error).message });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
