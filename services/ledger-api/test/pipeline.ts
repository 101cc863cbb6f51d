import { randomUUID } from 'node:crypto';
import { catalogFor, topicCatalog, type EventData, type EventInput, type EventType } from '@tributary/contracts';
import { ensureTopics } from '@tributary/messaging';
import { TributaryProducer, type PublishResult } from '@tributary/producer';
import {
  createTestDatabase,
  eventually,
  startServiceProcess,
  testBrokers,
  uniqueName,
  withAdmin,
  type ServiceProcess,
  type TestDatabase,
  testClientOptions,
} from '@tributary/testing';
import { issueReadCredential } from '../src/database/credentials';

/**
 * A small AI economy pushed through the real pipeline: inputs published with TributaryProducer, the
 * attribution service and the ledger projector run as their own processes, and the ledger API on top.
 * Nothing is inserted into the ledger by hand.
 */
export const SPLITS = {
  'model-1': {
    owner: 'mona',
    datanetIds: ['datanet-a', 'datanet-b'],
    split: { protocolBps: 1_000, modelBps: 3_000, dataBps: 6_000 },
  },
  'model-2': {
    owner: 'max',
    datanetIds: ['datanet-a'],
    split: { protocolBps: 1_000, modelBps: 1_000, dataBps: 8_000 },
  },
} as const;

/** contribution → [datanet, contributor, decision] */
export const CONTRIBUTIONS: Record<string, [string, string, 'ACCEPTED' | 'REJECTED']> = {
  'k-1': ['datanet-a', 'alice', 'ACCEPTED'],
  'k-2': ['datanet-a', 'bob', 'ACCEPTED'],
  'k-3': ['datanet-a', 'carol', 'ACCEPTED'],
  'k-4': ['datanet-b', 'alice', 'ACCEPTED'],
  'k-5': ['datanet-b', 'dave', 'ACCEPTED'],
  'k-6': ['datanet-a', 'erin', 'ACCEPTED'],
  'k-7': ['datanet-a', 'frank', 'REJECTED'],
};

export interface PublishedInference {
  readonly inferenceId: string;
  readonly modelId: keyof typeof SPLITS;
  readonly feeMinor: bigint;
  readonly result: PublishResult;
}

export class Pipeline {
  readonly prefix = `${uniqueName('t')}.`;
  readonly catalog = catalogFor(this.prefix);
  readonly processes: ServiceProcess[] = [];
  database!: TestDatabase;
  producer!: TributaryProducer;
  apiUrl = '';
  /** An operator's read credential, sent by get() unless another is given. */
  operatorCredential = '';
  private readonly occurredAt = BigInt(Date.now() - 5_000);

  /** `apiEnv`: more settings for the ledger API (read access, OIDC). */
  constructor(private readonly apiEnv: Record<string, string> = {}) {}

  async start(): Promise<void> {
    this.database = await createTestDatabase('ledger_api');
    await withAdmin((admin) => ensureTopics(admin, topicCatalog(this.catalog), 1));
    this.producer = await TributaryProducer.connect({
      ...testClientOptions('ledger-api-test'),
      source: 'urn:tributary:test',
      topicPrefix: this.prefix,
    });
    await this.publishState();
    const shared = {
      KAFKA_BROKERS: testBrokers().join(','),
      DATABASE_URL: this.database.url,
      TRIBUTARY_TOPIC_PREFIX: this.prefix,
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      CONSUMER_HEARTBEAT_INTERVAL_MS: '1000',
    };
    const attribution = startServiceProcess(
      'services/attribution/src/main.ts',
      {
        ...shared,
        ATTRIBUTION_HTTP_PORT: '0',
        ATTRIBUTION_ORDERING_GRACE_MS: '200',
        CONSUMER_REBALANCE_TIMEOUT_MS: '6000',
      },
      'ledger-api-attribution',
    );
    const projector = startServiceProcess(
      'services/ledger-projector/src/main.ts',
      { ...shared, LEDGER_PROJECTOR_HTTP_PORT: '0', LEDGER_PROJECTOR_LAG_SAMPLE_MS: '1000' },
      'ledger-api-projector',
    );
    this.processes.push(attribution, projector);
    await eventually(() => expect(projector.output()).toContain('ledger-projector ready'), 120_000);
    // The API's owner step runs after the projector created its tables, as in `npm start`'s order.
    const api = startServiceProcess(
      'services/ledger-api/src/main.ts',
      { ...shared, LEDGER_API_HTTP_PORT: '0', ...this.apiEnv },
      'ledger-api',
    );
    this.processes.push(api);
    await eventually(() => expect(attribution.output()).toContain('attribution ready'), 120_000);
    await eventually(() => expect(api.output()).toMatch(/ledger-api ready at (http:\/\/\S+) as role/), 120_000);
    this.apiUrl = /ledger-api ready at (http:\/\/\S+) as role/.exec(api.output())![1]!.replace('[::1]', '127.0.0.1');
    this.operatorCredential = (await issueReadCredential(this.database.url, ['operator'], 'ledger-api tests')).key;
  }

  /** A read credential with these scopes, issued the way `npm run ledger-api -- credentials create` does. */
  async credential(...scopes: string[]): Promise<string> {
    return (await issueReadCredential(this.database.url, scopes, 'ledger-api tests')).key;
  }

  async stop(): Promise<void> {
    for (const process of this.processes) await process.stop();
    await this.producer?.disconnect();
    await this.database?.drop();
  }

  private base() {
    return { eventId: `evt-${randomUUID()}`, occurredAt: this.occurredAt };
  }

  private publish<T extends EventType>(type: T, data: EventData<T> | EventInput<T>): Promise<PublishResult> {
    return this.producer.publish(type, data);
  }

  private async publishState(): Promise<void> {
    await this.publish('DatanetCreated', {
      ...this.base(),
      datanetId: 'datanet-a',
      ownerId: 'olga',
      name: 'Recipes',
      license: 'CC-BY-4.0',
      curatorShareBps: 1_000,
    });
    await this.publish('DatanetCreated', {
      ...this.base(),
      datanetId: 'datanet-b',
      ownerId: 'omar',
      name: 'Maps',
      license: 'CC-BY-4.0',
      curatorShareBps: 500,
    });
    for (const [contributionId, [datanetId, contributorId, decision]] of Object.entries(CONTRIBUTIONS)) {
      await this.publish('ContributionSubmitted', {
        ...this.base(),
        contributionId,
        datanetId,
        contributorId,
        contentHash: `sha256:${contributionId}`,
        sizeBytes: 100n,
        license: 'CC-BY-4.0',
      });
      await this.publish('ContributionValidated', {
        ...this.base(),
        contributionId,
        validatorId: 'val',
        decision,
        qualityScoreBps: 9_000,
        reason: null,
      });
    }
    for (const [modelId, model] of Object.entries(SPLITS)) {
      await this.publish('ModelRegistered', {
        ...this.base(),
        modelId,
        ownerId: model.owner,
        baseModel: 'base',
        datanetIds: [...model.datanetIds],
        split: { ...model.split },
      });
    }
  }

  /**
   * Inference `index`: alternating models; three attributions, among them k-7 (not accepted) every third
   * time and k-4/k-5 (datanet-b, outside model-2's datanets) for model-2.
   */
  async publishInference(index: number): Promise<PublishedInference> {
    const modelId = index % 2 === 0 ? 'model-1' : 'model-2';
    const feeMinor = 10_000n + BigInt(index * 37);
    const pool = ['k-1', 'k-2', 'k-3', 'k-4', 'k-5', 'k-6'];
    const attributions = [
      pool[index % 6]!,
      pool[(index + 2) % 6]!,
      index % 3 === 0 ? 'k-7' : pool[(index + 4) % 6]!,
    ].map((contributionId, slot) => ({ contributionId, scorePpm: BigInt(100_000 * (slot + 1)) }));
    const inferenceId = `inf-${index}`;
    const result = await this.publish('InferenceCompleted', {
      ...this.base(),
      occurredAt: BigInt(Date.now()),
      inferenceId,
      modelId,
      agentId: null,
      consumerId: `consumer-${index % 3}`,
      asset: 'USDC',
      feeMinor,
      attributions,
      method: 'influence/v1',
      latencyMs: null,
    });
    return { inferenceId, modelId, feeMinor, result };
  }

  async publishPayout(payoutId: string, accountId: string, amountMinor: bigint): Promise<PublishResult> {
    await this.publish('PayoutRequested', {
      ...this.base(),
      payoutId,
      accountId,
      asset: 'USDC',
      amountMinor,
      epoch: 1,
    });
    return this.publish('PayoutSettled', {
      ...this.base(),
      payoutId,
      accountId,
      rail: 'ach',
      reference: `ref-${payoutId}`,
    });
  }

  /** GETs a path of the API, as the operator unless another credential (or null: none) is given. */
  async get<T = any>(
    path: string,
    credential: string | null = this.operatorCredential,
  ): Promise<{ status: number; body: T; headers: Headers; text: string }> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      headers: credential === null ? {} : { authorization: `Bearer ${credential}` },
    });
    const text = await response.text();
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body, headers: response.headers, text };
  }

  /** Waits until the ledger has applied this many inferences, through the API itself. */
  async waitForInferences(count: number, timeoutMs = 120_000): Promise<void> {
    await eventually(
      async () => {
        const { body } = await this.get('/v1/flow');
        expect(body.inferenceCount).toBe(count);
      },
      timeoutMs,
      500,
    );
  }
}
