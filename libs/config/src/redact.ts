/**
 * The one place that decides how a secret looks when something would print it. What counts as a secret
 * (README, "Secrets"): the password in any connection URL, Kafka passwords, the payouts operator token,
 * the webhook signing secret, the ledger reader's password and the gateway's API keys.
 */
export const REDACTED = '[redacted]';

/** Query parameters of a connection URL that carry a credential (libpq's `password`, `sslpassword`, ...). */
const SECRET_PARAMETER = /pass|secret|token|key/i;

/**
 * A URL as it may be shown: its password and any credential in its query replaced by [redacted]. A value
 * that does not parse as a URL is not shown at all, since nothing says where its password would be.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '(a value that is not a URL)';
  }
  // Built by hand: the URL setters would percent-encode the brackets of [redacted].
  const credentials = url.username ? `${url.username}${url.password ? `:${REDACTED}` : ''}@` : '';
  const query = [...url.searchParams]
    .map(([name, parameter]) => `${name}=${SECRET_PARAMETER.test(name) ? REDACTED : encodeURIComponent(parameter)}`)
    .join('&');
  return `${url.protocol}//${credentials}${url.host}${url.pathname}${query ? `?${query}` : ''}`;
}

/** scheme://user:password@ anywhere in a text, up to the @ (a password may hold anything but @, / and space). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]*@/gi;

/**
 * A free text (an error's message or stack, a log line) with the password of every URL in it replaced, for
 * the places that print text they did not compose themselves.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${REDACTED}@`);
}
