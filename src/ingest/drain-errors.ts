// What the protocol drains (OTLP, Loki, Elasticsearch) share around errors:
// each answers in its own protocol's shape, so each plugin has its own error
// handler, but they agree on which SluiceError a failure is and on logging,
// counting and Retry-After, like the app-wide handler in src/app.ts.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { ERRORS, SluiceError } from '../errors.js';

/** The SluiceError a failure in a drain route stands for. */
export function drainError(err: FastifyError | Error): SluiceError {
  if (err instanceof SluiceError) return err;
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new SluiceError('SLUICE_ERR_BODY_TOO_LARGE', fe.message);
  if (fe.validation) return new SluiceError('SLUICE_ERR_VALIDATION', fe.message);
  const status = fe.statusCode ?? 500;
  if (status >= 400 && status < 500) return new SluiceError('SLUICE_ERR_VALIDATION', fe.message);
  return new SluiceError('SLUICE_ERR_INTERNAL', ERRORS.SLUICE_ERR_INTERNAL.message, { cause: err });
}

/** Logs and counts a failure, sets Retry-After; returns the error to render. */
export function prepareDrainError(ctx: AppContext, error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): SluiceError {
  const err = drainError(error);
  if (err.statusCode >= 500) req.log.error({ err: error, url: req.url, code: err.code }, 'request failed');
  else req.log.debug({ url: req.url, code: err.code, status: err.statusCode }, 'request refused');
  if (err.statusCode === 503) ctx.metrics.requests503.inc({ code: err.code });
  if (err.retryAfter !== undefined) void reply.header('Retry-After', String(err.retryAfter));
  return err;
}

/** The first value of a header that may repeat. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(v: string | string[] | undefined): string {
  return (headerValue(v) ?? '').split(';')[0]!.trim().toLowerCase();
}
