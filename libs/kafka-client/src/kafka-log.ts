import { logLevel, type logCreator } from 'kafkajs';

/** What kafkajs warns, once per producer, when an idempotent producer's retries are bounded. */
export const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

interface KafkajsProtocolError {
  readonly type: string;
  readonly retriable: boolean;
  readonly message: string;
}

/**
 * kafkajs's protocol errors that it retries itself (CONCURRENT_TRANSACTIONS, NOT_COORDINATOR, ...), by the
 * text it logs them with. kafkajs exports no public list, so this reads the one its own retrier uses.
 */
const RETRIABLE_ERRORS: ReadonlyMap<string, string> = new Map(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
  (require('kafkajs/src/protocol/error') as { errorCodes: readonly KafkajsProtocolError[] }).errorCodes
    .filter((error) => error.retriable)
    .map((error) => [error.message, error.type]),
);

const FAILED_SEND = 'Failed to send messages: ';

/** The retriable protocol error an ERROR entry of kafkajs reports, if it reports one. */
export function retriedKafkaError(log: { readonly message: string; readonly error?: unknown }): string | undefined {
  const text =
    typeof log.error === 'string'
      ? log.error
      : log.message.startsWith(FAILED_SEND)
        ? log.message.slice(FAILED_SEND.length)
        : undefined;
  return text === undefined ? undefined : RETRIABLE_ERRORS.get(text);
}

/**
 * kafkajs's own log lines (one JSON object per line on the console, as its default logger writes them),
 * less one warning every producer here would print at start. kafkajs writes every error answer of the
 * broker at ERROR, even one it is about to retry: a transactional producer starting its next transaction
 * while the broker still writes the last one's markers is told CONCURRENT_TRANSACTIONS and retries 20 ms
 * later, several times a second under load. Such an entry is written at WARN, with the error's type
 * (`retriableError`); if the retries run out, the operation's caller fails and says so at ERROR. Retries
 * are bounded on purpose, as every wait in this system is: a send that exhausts them fails its batch
 * instead of hanging. A transactional send then aborts, so read_committed readers never see its records; a
 * gateway publish answers 503, and a producer that retries under its event id (the CloudEvents id) is
 * deduplicated by the gateway and by every consumer; a DLQ record may at worst be written twice, never
 * lost. The guarantees this system gives rest on transactions and event ids, not on unbounded retries.
 */
export const kafkaLogCreator: logCreator =
  () =>
  ({ namespace, level, label, log }) => {
    if (log.message === BOUNDED_RETRIES_WARNING) return;
    const retriableError = level === logLevel.ERROR ? retriedKafkaError(log) : undefined;
    const [as, asLabel] = retriableError === undefined ? [level, label] : [logLevel.WARN, 'WARN'];
    const line = JSON.stringify({
      level: asLabel,
      ...log,
      message: namespace ? `[${namespace}] ${log.message}` : log.message,
      ...(retriableError === undefined ? {} : { retriableError }),
    });
    if (as === logLevel.ERROR) console.error(line);
    else if (as === logLevel.WARN) console.warn(line);
    else if (as === logLevel.INFO) console.info(line);
    else console.log(line);
  };
