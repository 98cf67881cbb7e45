// Runs read queries for the API on the query session (the alert engine's
// counting on its own), with the read limits, and turns the engine's
// refusals into errors that name the limit.
import type { AppContext } from '../context.js';
import { SluiceError } from '../errors.js';
import { readSettings } from '../store/events-read.js';
import type { Session } from '../store/store.js';

export function settingsFor(ctx: AppContext): string {
  return readSettings({ timeoutSeconds: ctx.config.queryTimeoutSeconds, maxRowsToRead: ctx.config.queryMaxRows });
}

export function mapReadError(ctx: AppContext, e: unknown): unknown {
  const code = String((e as { code?: unknown }).code ?? '');
  const message = (e as Error).message ?? '';
  switch (code) {
    case '427': // CANNOT_COMPILE_REGEXP
      return new SluiceError('SLUICE_ERR_INVALID_REGEX', `the regular expression is not valid RE2: ${message.split('(')[0]!.slice(0, 200)}`);
    case '158': // TOO_MANY_ROWS
      return new SluiceError('SLUICE_ERR_QUERY_TOO_BROAD', `the query would read more than SLUICE_QUERY_MAX_ROWS=${ctx.config.queryMaxRows} rows; narrow the time range or the filter`);
    case '159': // TIMEOUT_EXCEEDED
      return new SluiceError('SLUICE_ERR_QUERY_TIMEOUT', `the query ran past SLUICE_QUERY_TIMEOUT=${ctx.config.queryTimeoutSeconds}s; narrow the time range or the filter`, { retryAfter: 1 });
    default:
      return e;
  }
}

/** Rows of a read query (JSONEachRow), SETTINGS appended. */
export async function readRows<T>(ctx: AppContext, sql: string, params: Record<string, unknown>, session: Session = ctx.store.query): Promise<T[]> {
  try {
    const rs = await session.query({ query: sql + '\n' + settingsFor(ctx), query_params: params, format: 'JSONEachRow' });
    return await rs.json<T>();
  } catch (e) {
    throw mapReadError(ctx, e);
  }
}

/**
 * Rows of a read query as arrays, in one JSON document (JSONCompact): one
 * parse for the whole answer instead of one per row, for answers of many
 * small rows (trends).
 */
export async function readCompactRows<T extends unknown[]>(ctx: AppContext, sql: string, params: Record<string, unknown>, session: Session = ctx.store.query): Promise<T[]> {
  try {
    const rs = await session.query({ query: sql + '\n' + settingsFor(ctx), query_params: params, format: 'JSONCompact' });
    return ((await rs.json()) as unknown as { data: T[] }).data;
  } catch (e) {
    throw mapReadError(ctx, e);
  }
}
