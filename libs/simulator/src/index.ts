// @tributary/simulator: a deterministic AI economy as Tributary events (pure; the sending lives in a CLI).
export { SeededRandom } from './random';
export {
  simulateEconomy,
  takeEvents,
  setupEventCount,
  economyOptionProblems,
  ECONOMY_DEFAULTS,
  TAKE_EVENTS_MAX,
  type EconomyOptions,
  type SimulatedEvent,
  type SimulatedEventType,
} from './economy';
