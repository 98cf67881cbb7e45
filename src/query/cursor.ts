// Search cursors: the (time, id) of the last event of a page, opaque to
// clients. Paging by that tuple stays correct while new events arrive.
import { SluiceError } from '../errors.js';

export interface Cursor {
  readonly time: string; // ClickHouse DateTime64(9) text
  readonly id: string;
}

const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.time, c.id])).toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && TIME.test(v[0]) && UUID.test(v[1])) {
      return { time: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new SluiceError('SLUICE_ERR_INVALID_CURSOR');
}
