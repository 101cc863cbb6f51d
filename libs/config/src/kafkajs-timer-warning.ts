// kafkajs 2.2.4 (its last release) arms a timer with a negative delay whenever a connection's request
// queue has nothing throttled (RequestQueue.scheduleCheckPendingRequests subtracts Date.now() from -1).
// Node has always run such a timer after 1 ms; since Node 24 it also prints a TimeoutNegativeWarning on
// stderr, once per process. The warning says nothing about Tributary, and a command whose stderr must be
// empty when it succeeds would no longer be, so that one warning from that one place is dropped; every
// other warning, the same type from anywhere else included, is printed as before.
const KAFKAJS_REQUEST_QUEUE = /kafkajs[\\/]src[\\/]network[\\/]requestQueue[\\/]/;

let installed = false;

/** Whether a warning Node is about to print is kafkajs's negative request-queue timer. */
export function isKafkajsNegativeTimerWarning(type: unknown, stack: string): boolean {
  return type === 'TimeoutNegativeWarning' && KAFKAJS_REQUEST_QUEUE.test(stack);
}

/** Drops kafkajs's negative-timer warning from this process (idempotent); importing @tributary/config does it. */
export function dropKafkajsNegativeTimerWarning(): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (warning: unknown, ...rest: unknown[]) => {
    const [typeOrOptions] = rest;
    const type =
      typeof typeOrOptions === 'object' && typeOrOptions !== null
        ? (typeOrOptions as { type?: unknown }).type
        : typeOrOptions;
    // Node's timers call process.emitWarning from inside setTimeout, so the caller is a few frames up.
    if (isKafkajsNegativeTimerWarning(type, new Error().stack ?? '')) return;
    emitWarning(warning, ...rest);
  };
}
