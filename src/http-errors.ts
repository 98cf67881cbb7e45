// Which SluiceError a failure in a route stands for, and what every error
// handler does with it (log, count, Retry-After). The app-wide handler
// renders it as JSON; the protocol drains render it in their own shapes.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from './context.js';
import { ERRORS, SluiceError } from './errors.js';

export function toSluiceError(error: FastifyError | Error): SluiceError {
  if (error instanceof SluiceError) return error;
  const err = error as FastifyError;
  if (err.validation) return new SluiceError('SLUICE_ERR_VALIDATION', err.message);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SluiceError('SLUICE_ERR_BODY_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SluiceError('SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE', err.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SluiceError('SLUICE_ERR_MALFORMED_JSON', err.message);
  }
  if (err instanceof SyntaxError) return new SluiceError('SLUICE_ERR_MALFORMED_JSON', err.message);
  // ClickHouse TIMEOUT_EXCEEDED (159): the query ran past max_execution_time.
  if ((err as { code?: unknown }).code === '159') return new SluiceError('SLUICE_ERR_QUERY_TIMEOUT');
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return new SluiceError('SLUICE_ERR_VALIDATION', err.message);
  return new SluiceError('SLUICE_ERR_INTERNAL', ERRORS.SLUICE_ERR_INTERNAL.message, { cause: err });
}

/** Logs and counts a failure and sets Retry-After; returns the error to render. */
export function prepareError(ctx: AppContext, error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): SluiceError {
  const err = toSluiceError(error);
  if (err.statusCode >= 500) req.log.error({ err: error, url: req.url, code: err.code }, 'request failed');
  else req.log.debug({ url: req.url, code: err.code, status: err.statusCode }, 'request refused');
  if (err.statusCode === 503) ctx.metrics.requests503.inc({ code: err.code });
  if (err.retryAfter !== undefined) void reply.header('Retry-After', String(err.retryAfter));
  return err;
}
