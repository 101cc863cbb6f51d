import { z } from 'zod';
import { ConfigError } from './config-error';

/**
 * Parses one configuration namespace from environment variables. The schema's keys are the variable
 * names themselves, so an error names exactly the variable an operator has to fix.
 */
export function parseEnv<Schema extends z.ZodType>(
  namespace: string,
  schema: Schema,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (!result.success) throw ConfigError.fromZod(namespace, result.error);
  return result.data;
}

/** host:port pairs, comma separated, e.g. "127.0.0.1:9092,127.0.0.1:9093". */
export const brokerList = z
  .string()
  .trim()
  .min(1, 'must list at least one broker as host:port')
  .transform((value) => value.split(',').map((broker) => broker.trim()))
  .refine((brokers) => brokers.every((broker) => /^[A-Za-z0-9._-]+:\d{1,5}$/.test(broker)), {
    message: 'each broker must be host:port, comma separated',
  });

/** An integer from a string variable, with inclusive bounds: every limit we accept from outside is bounded. */
export function boundedInt(min: number, max: number, fallback: number) {
  return z.coerce
    .number()
    .int(`must be an integer from ${min} to ${max}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);
}

/**
 * A PostgreSQL connection URL. It must parse here, so no later `new URL()` throws an error that carries the
 * whole value (Node keeps it as the error's `input`, and printing the error would show the password).
 */
export const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\/.+/.test(value) && URL.canParse(value), {
    message: 'must be a postgres:// or postgresql:// URL',
  });

/** Kafka names (topics, group ids, client ids) as Kafka itself accepts them. */
export const kafkaName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be 1-249 characters of letters, digits, ".", "_" or "-"');

/** The address an HTTP service listens on: 127.0.0.1 on a developer's machine, 0.0.0.0 in a container. */
export const httpHost = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F.:]+$|^localhost$/, 'must be an IP address or localhost')
  .default('127.0.0.1');

/**
 * How many proxies in front of a service are trusted to set X-Forwarded-For (HTTP_TRUST_PROXY_HOPS).
 * 0, the default: the header is ignored and the connection's address is the client's, so a client
 * cannot choose the address its rate limit counts against.
 */
export const trustProxyHops = boundedInt(0, 10, 0);
