/** One thing wrong with a request: the parameter, and the rule it broke (machine-readable). */
export interface Issue {
  readonly field: string;
  readonly rule: string;
}

/** The body of every error this API returns, whatever went wrong. */
export interface ErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  readonly issues: Issue[];
}

/** An expected refusal (bad input, unknown id, a dependency down), mapped to its status at the edge. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { statusCode: this.statusCode, error: this.error, message: this.message, issues: this.issues };
  }

  static badRequest(issues: Issue[]): ApiError {
    return new ApiError(400, 'bad_request', issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; '), issues);
  }

  static notFound(field: string, id: string): ApiError {
    return new ApiError(404, 'not_found', `${field}: no ${field} "${id}" in the ledger`, [
      { field, rule: 'unknown-id' },
    ]);
  }

  static unavailable(message: string): ApiError {
    return new ApiError(503, 'unavailable', message);
  }
}
