// Expected set-up failures (no Java, no Maven, port taken, resolution failed, broker never came up).
// The CLI edge prints `summary` and `hint` as one line: `tributary: <summary>: <hint>`; `detail`
// (e.g. the tail of the broker log) follows only when there is one.
export class ProvisionError extends Error {
  readonly summary: string;
  readonly hint: string;
  readonly detail: string;

  constructor(summary: string, hint: string, detail = '') {
    super(detail ? `${summary}\n${detail}` : summary);
    this.name = 'ProvisionError';
    this.summary = summary;
    this.hint = hint;
    this.detail = detail;
  }
}

export function formatProvisionError(error: ProvisionError): string {
  const line = `tributary: ${error.summary}: ${error.hint}`;
  return error.detail ? `${line}\n${error.detail.replace(/^/gm, '  ')}` : line;
}
