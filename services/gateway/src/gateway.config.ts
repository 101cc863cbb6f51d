import { z } from 'zod';
import { boundedInt, httpHost, kafkaEnv, parseEnv } from '@tributary/config';

const gatewaySchema = z.object({
  GATEWAY_HTTP_PORT: boundedInt(0, 65_535, 3100),
  HTTP_HOST: httpHost,
});

/** Everything the gateway reads from its environment, validated before anything starts. */
export function gatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return { ...parseEnv('gateway', gatewaySchema, env), ...kafkaEnv(env) };
}
export type GatewayConfig = ReturnType<typeof gatewayConfig>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
