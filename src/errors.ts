import { STATUS_CODES } from 'node:http';

// The one table of error codes. docs/errors.md mirrors it and a test keeps
// the two in step. Retired codes are never reused.

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const ERRORS = {
  SLUICE_ERR_UNAUTHORIZED: { status: 401, message: 'A token is required: send Authorization: Bearer <token>' },
  SLUICE_ERR_INVALID_TOKEN: { status: 401, message: 'The token is unknown or revoked' },
  SLUICE_ERR_FORBIDDEN: { status: 403, message: 'The token lacks the scope this route needs' },
  SLUICE_ERR_NOT_FOUND: { status: 404, message: 'No such route' },
  SLUICE_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'The route does not take this method' },
  SLUICE_ERR_VALIDATION: { status: 400, message: 'The request does not match the route schema' },
  SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported Content-Type' },
  SLUICE_ERR_UNSUPPORTED_ENCODING: { status: 415, message: 'Unsupported Content-Encoding' },
  SLUICE_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than the limit' },
  SLUICE_ERR_DECOMPRESSED_TOO_LARGE: { status: 413, message: 'The body expands past the decompressed size limit' },
  SLUICE_ERR_BAD_GZIP: { status: 400, message: 'The body is not valid gzip' },
  SLUICE_ERR_EMPTY_BODY: { status: 400, message: 'The request body holds no events' },
  SLUICE_ERR_MALFORMED_JSON: { status: 400, message: 'The body is not valid JSON' },
  SLUICE_ERR_INVALID_PROTOBUF: { status: 400, message: 'The body is not a valid protobuf message of the expected type' },
  SLUICE_ERR_BAD_SNAPPY: { status: 400, message: 'The body is not valid snappy (block format)' },
  SLUICE_ERR_INVALID_EVENT: { status: 400, message: 'The event is not a JSON object or a line of text' },
  SLUICE_ERR_LINE_TOO_LARGE: { status: 413, message: 'The line is longer than the line size limit' },
  SLUICE_ERR_TOO_MANY_ATTRIBUTES: { status: 400, message: 'The event has more attributes than the limit' },
  SLUICE_ERR_INVALID_TIME: { status: 400, message: 'The event time cannot be read' },
  SLUICE_ERR_NO_VALID_EVENTS: { status: 400, message: 'No event in the request was valid' },
  SLUICE_ERR_INVALID_FRAME: { status: 400, message: 'An octet-counted frame is truncated or its length does not match its message' },
  SLUICE_ERR_INVALID_IDEMPOTENCY_KEY: { status: 400, message: 'Idempotency-Key must be 1-200 printable ASCII characters' },
  SLUICE_ERR_INVALID_LINE_META: { status: 400, message: 'X-Sluice-Line-Meta must be the JSON object docs/api.md describes, sent with a text/plain body' },
  SLUICE_ERR_INVALID_CURSOR: { status: 400, message: 'The cursor is not one this server issued' },
  SLUICE_ERR_INVALID_TIME_RANGE: { status: 400, message: 'from/to must be RFC 3339 times or relative durations like 15m' },
  SLUICE_ERR_INVALID_LEVEL: { status: 400, message: 'Unknown level: use trace, debug, info, warn, error or fatal' },
  SLUICE_ERR_QUERY_SYNTAX: { status: 400, message: 'The query does not parse' },
  SLUICE_ERR_LOGQL: { status: 400, message: 'The LogQL query does not parse, or uses what Sluice does not answer yet' },
  SLUICE_ERR_INVALID_REGEX: { status: 400, message: 'The regular expression is not valid RE2' },
  SLUICE_ERR_QUERY_TOO_BROAD: { status: 400, message: 'The query would read more rows than SLUICE_QUERY_MAX_ROWS; narrow the time range or the filter' },
  SLUICE_ERR_EVENT_NOT_FOUND: { status: 404, message: 'No event has this id' },
  SLUICE_ERR_SEARCH_NOT_FOUND: { status: 404, message: 'No saved search has this id' },
  SLUICE_ERR_RULE_NOT_FOUND: { status: 404, message: 'No alert rule has this id' },
  SLUICE_ERR_TOKEN_EXISTS: { status: 409, message: 'A token with this name already exists' },
  SLUICE_ERR_TOKEN_NOT_FOUND: { status: 404, message: 'No active token has this name' },
  SLUICE_ERR_LAST_ADMIN_TOKEN: { status: 409, message: 'The last admin token cannot be revoked; create another admin token first' },
  SLUICE_ERR_TAIL_LIMIT: { status: 429, message: 'The token holds as many live tails as SLUICE_TAIL_MAX_PER_TOKEN allows' },
  SLUICE_ERR_RATE_LIMITED: { status: 429, message: 'The token has sent more than its rate limit' },
  SLUICE_ERR_OVERLOADED: { status: 503, message: 'The ingest buffer is full; retry after the delay in Retry-After' },
  SLUICE_ERR_DISK_FULL: { status: 503, message: 'Free disk space is below SLUICE_MIN_FREE_DISK; retry later' },
  SLUICE_ERR_SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; retry against another instance' },
  SLUICE_ERR_STORE_UNAVAILABLE: { status: 503, message: 'The store could not take the write; retry later' },
  SLUICE_ERR_QUERY_TIMEOUT: { status: 503, message: 'The query ran past its time limit; narrow the time range' },
  SLUICE_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryAfter: number | undefined;
  /** Extra fields of the error body, e.g. the position of a query error. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, opts: { retryAfter?: number; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message ?? ERRORS[code].message, { cause: opts.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.statusCode = ERRORS[code].status;
    this.retryAfter = opts.retryAfter;
    this.details = opts.details;
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** The body every HTTP error answers with. */
export function errorBody(err: SluiceError): { statusCode: number; code: ErrorCode; error: string; message: string } & Record<string, unknown> {
  return { statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message, ...err.details };
}
