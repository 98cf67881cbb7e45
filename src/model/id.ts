// Event ids: UUIDv7 built from the event time, so ids sort by time and an id
// tells the day partition its event lives in. Random bits come from a pooled
// buffer: one crypto call per 1024 ids on the ingest hot path.
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(16 * 1024);
let offset = POOL.length;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7(ms: number): string {
  if (offset + 10 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const r = POOL;
  const o = offset;
  offset += 10;
  const t = Math.max(0, Math.min(ms, 2 ** 48 - 1));
  const hi = Math.floor(t / 2 ** 16);
  const lo = t % 2 ** 16;
  const h = (n: number, shift: number) => HEX[(n >>> shift) & 0xff]!;
  return (
    h(hi, 24) + h(hi, 16) + h(hi, 8) + h(hi, 0) + '-' + h(lo, 8) + h(lo, 0) + '-' +
    HEX[0x70 | (r[o]! & 0x0f)]! + HEX[r[o + 1]!]! + '-' +
    HEX[0x80 | (r[o + 2]! & 0x3f)]! + HEX[r[o + 3]!]! + '-' +
    HEX[r[o + 4]!]! + HEX[r[o + 5]!]! + HEX[r[o + 6]!]! + HEX[r[o + 7]!]! + HEX[r[o + 8]!]! + HEX[r[o + 9]!]!
  );
}

/** The millisecond timestamp a UUIDv7 carries, or undefined for another id. */
export function uuidv7Ms(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
