import type { ServicePrincipal } from '@tributary/contracts';

/**
 * The services `npm start` runs, in start order, and the image runs compiled (compose, Kubernetes). A new
 * service under services/ is added here, in nest-cli.json and in docker-compose.yml.
 */
export interface LocalService {
  /** The service's name, which is also the Kafka principal it authenticates as. */
  readonly name: ServicePrincipal;
  readonly main: string;
  /** Its command-line tool, whose `migrate` command runs its database owner step. */
  readonly cli: string;
  readonly httpPortVariable: string;
  readonly httpPort: number;
}

export const LOCAL_SERVICES: readonly LocalService[] = [
  {
    name: 'gateway',
    main: 'services/gateway/src/main.ts',
    cli: 'services/gateway/src/cli/gateway-cli.ts',
    httpPortVariable: 'GATEWAY_HTTP_PORT',
    httpPort: 3100,
  },
  {
    name: 'attribution',
    main: 'services/attribution/src/main.ts',
    cli: 'services/attribution/src/cli.ts',
    httpPortVariable: 'ATTRIBUTION_HTTP_PORT',
    httpPort: 3101,
  },
  {
    name: 'ledger-projector',
    main: 'services/ledger-projector/src/main.ts',
    cli: 'services/ledger-projector/src/cli.ts',
    httpPortVariable: 'LEDGER_PROJECTOR_HTTP_PORT',
    httpPort: 3102,
  },
  {
    name: 'ledger-api',
    main: 'services/ledger-api/src/main.ts',
    cli: 'services/ledger-api/src/cli.ts',
    httpPortVariable: 'LEDGER_API_HTTP_PORT',
    httpPort: 3105,
  },
  {
    name: 'payouts',
    main: 'services/payouts/src/main.ts',
    cli: 'services/payouts/src/cli.ts',
    httpPortVariable: 'PAYOUTS_HTTP_PORT',
    httpPort: 3104,
  },
];

/**
 * A service's main as `npm run build` compiles it, relative to the repository root (the image's /app):
 * dist/ mirrors the source tree, so services/<name>/src/main.ts becomes dist/services/<name>/src/main.js.
 */
export function compiledMain(service: Pick<LocalService, 'main'>): string {
  return `dist/${service.main.replace(/\.ts$/, '.js')}`;
}
