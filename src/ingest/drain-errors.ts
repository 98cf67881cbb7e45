// What the protocol drains (OTLP, Loki, Elasticsearch) share around errors:
// each answers in its own protocol's shape, so each plugin has its own error
// handler, but they agree on which SluiceError a failure is and on logging,
// counting and Retry-After with the app-wide handler (src/http-errors.ts).
import { prepareError } from '../http-errors.js';

/** Logs and counts a failure, sets Retry-After; returns the error to render. */
export const prepareDrainError = prepareError;

/** The first value of a header that may repeat. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(v: string | string[] | undefined): string {
  return (headerValue(v) ?? '').split(';')[0]!.trim().toLowerCase();
}
