import { Module, type DynamicModule } from '@nestjs/common';
import { HealthController } from './health.controller';
import { SchemaCatalogController } from './schema-catalog/schema-catalog.controller';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';

@Module({})
export class GatewayModule {
  static forConfig(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [SchemaCatalogController, HealthController],
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }],
    };
  }
}
