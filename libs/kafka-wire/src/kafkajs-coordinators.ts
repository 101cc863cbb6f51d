/**
 * Remembers which broker coordinates a group or a transactional id, for every kafkajs client of the
 * process. kafkajs 2.2.4 asks the cluster (a FindCoordinator request) before every request that goes to
 * a coordinator: a transaction with offsets asks four times (AddPartitionsToTxn, AddOffsetsToTxn,
 * TxnOffsetCommit, EndTxn), each a round trip before the one that does the work, and so does every
 * admin offset fetch (the decider's claim, the ledger API's freshness) and every consumer join. In
 * bench:latency that was 15 to 20 ms of each attribution transaction with the machine idle.
 *
 * The replacement keeps the coordinator's node id per client (kafkajs's Cluster: each producer,
 * consumer and admin has its own) and coordinator key, and hands out the broker through the client's own
 * broker pool, which reconnects it when needed. A request to a remembered coordinator that fails
 * because it is not the coordinator (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) or could not be
 * answered at all (a connection lost, a timeout) forgets it before kafkajs sees the error, so kafkajs's
 * retry (or the caller's) asks the cluster again. Any other answer came from the coordinator itself
 * (CONCURRENT_TRANSACTIONS, after nearly every commit, above all) and keeps it.
 */
import { assertPinnedVersion } from './kafkajs-encoders';

/** The kafkajs module whose Cluster class finds coordinators. */
export const CLUSTER_MODULE = 'kafkajs/src/cluster/index.js';
const INSTALLED = Symbol.for('tributary.kafkajsCoordinators');

export interface CoordinatorQuery {
  readonly groupId: string;
  /** kafkajs's COORDINATOR_TYPES: 0 a consumer group (its default), 1 a transactional id. */
  readonly coordinatorType?: number;
}

/** What the replacement needs of kafkajs's Cluster: its own lookup and its broker pool's. */
export interface CoordinatorCluster {
  findBroker(query: { nodeId: number }): Promise<CoordinatorBroker>;
}

export interface CoordinatorBroker {
  readonly nodeId: number;
}

type FindCoordinator = (this: CoordinatorCluster, query: CoordinatorQuery) => Promise<CoordinatorBroker>;

/**
 * `ask` (kafkajs's own findGroupCoordinator) made to ask once per client and coordinator key, until a
 * request to the coordinator it found fails.
 */
export function rememberingCoordinators(ask: FindCoordinator): FindCoordinator {
  const known = new WeakMap<CoordinatorCluster, Map<string, number>>();
  return async function findGroupCoordinator(this: CoordinatorCluster, query: CoordinatorQuery) {
    const key = `${query.coordinatorType ?? 0}:${query.groupId}`;
    let nodeIds = known.get(this);
    if (nodeIds === undefined) {
      nodeIds = new Map();
      known.set(this, nodeIds);
    }
    const forget = (nodeId: number) => {
      if (nodeIds.get(key) === nodeId) nodeIds.delete(key);
    };
    const nodeId = nodeIds.get(key);
    if (nodeId !== undefined) {
      try {
        return forgetOnFailure(await this.findBroker({ nodeId }), () => forget(nodeId));
      } catch {
        // Gone from the client's metadata or unreachable: kafkajs's own lookup refreshes what it must.
        forget(nodeId);
      }
    }
    const broker = await ask.call(this, query);
    nodeIds.set(key, broker.nodeId);
    return forgetOnFailure(broker, () => forget(broker.nodeId));
  };
}

/** kafkajs's names (KafkaJSProtocolError.type) of the answers that say the broker is not the coordinator. */
const NOT_THE_COORDINATOR = new Set([
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
]);

/** Whether a failed request says nothing of the coordinator's answer: not one (no protocol error), or "not me". */
function forgetsCoordinator(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type !== 'string' || NOT_THE_COORDINATOR.has(type);
}

/** The broker as is, except that a request failing as forgetsCoordinator says calls `forget` before the caller sees it. */
function forgetOnFailure<B extends object>(broker: B, forget: () => void): B {
  return new Proxy(broker, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = value.apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.catch((error: unknown) => {
            if (forgetsCoordinator(error)) forget();
            throw error;
          });
        } catch (error) {
          if (forgetsCoordinator(error)) forget();
          throw error;
        }
      };
    },
  });
}

/**
 * Puts the remembering lookup in the place of kafkajs's Cluster.prototype.findGroupCoordinator. Clients
 * made before the call use it too (it is the prototype's). Throws when kafkajs is not the pinned version
 * or its Cluster has no such method; calling it again is a no-op.
 */
export function installKafkajsCoordinators(): void {
  assertPinnedVersion();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its cluster modules
  const Cluster = require(CLUSTER_MODULE) as { prototype: { findGroupCoordinator?: FindCoordinator } };
  const own = Cluster.prototype.findGroupCoordinator;
  if (typeof own !== 'function')
    throw new Error(`kafkajs coordinators: ${CLUSTER_MODULE} has no findGroupCoordinator to replace`);
  if ((own as { [INSTALLED]?: boolean })[INSTALLED] === true) return;
  const replacement = rememberingCoordinators(own);
  Object.defineProperty(replacement, INSTALLED, { value: true });
  Cluster.prototype.findGroupCoordinator = replacement;
}
