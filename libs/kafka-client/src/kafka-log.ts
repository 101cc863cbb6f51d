import { logLevel, type logCreator } from 'kafkajs';

/** What kafkajs warns, once per producer, when an idempotent producer's retries are bounded. */
export const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/**
 * kafkajs's own log lines (one JSON object per line on the console, as its default logger writes them),
 * less one warning every producer here would print at start. Retries are bounded on purpose, as every
 * wait in this system is: a send that exhausts them fails its batch instead of hanging. A transactional
 * send then aborts, so read_committed readers never see its records; a gateway publish answers 503, and
 * a producer that retries under its event id (the CloudEvents id) is deduplicated by the gateway and by
 * every consumer; a DLQ record may at worst be written twice, never lost. The guarantees this system
 * gives rest on transactions and event ids, not on unbounded retries.
 */
export const kafkaLogCreator: logCreator =
  () =>
  ({ namespace, level, label, log }) => {
    if (log.message === BOUNDED_RETRIES_WARNING) return;
    const line = JSON.stringify({
      level: label,
      ...log,
      message: namespace ? `[${namespace}] ${log.message}` : log.message,
    });
    if (level === logLevel.ERROR) console.error(line);
    else if (level === logLevel.WARN) console.warn(line);
    else if (level === logLevel.INFO) console.info(line);
    else console.log(line);
  };
