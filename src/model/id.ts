// Event ids: UUIDv7 built from the event time, so ids sort by time and an id
// tells the day partition its event lives in.
//
// Events that share a time are listed in the order they arrived: a search and
// a live-tail backfill order by (time, id), and so does the live stream, in
// effect. ClickHouse compares UUIDs by their second half first, strings by
// their first half; so the second half starts with a counter that grows with
// every id this process makes (RFC 9562's monotonic rand_b, from a random
// start), and rand_a stays fixed for the process. Ids of one time, made here,
// then sort in the order they were made both ways. Uniqueness: the counter
// never repeats in a process; across processes, a random rand_a, a random
// counter start and 16 random bits per id.
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(16 * 1024);
let offset = POOL.length;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const SEED = randomBytes(8);
// rand_a, with the version nibble: the third group of every id of this process.
const GROUP3 = HEX[0x70 | (SEED[0]! & 0x0f)]! + HEX[SEED[1]!]!;
// The 46-bit counter after the variant bits, started in its lower quarter so
// that it does not wrap.
const COUNTER_SPAN = 2 ** 46;
let counter = SEED.readUIntBE(2, 5) * 2 ** 4 + (SEED[7]! & 0x0f);

export function uuidv7(ms: number): string {
  if (offset + 2 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const o = offset;
  offset += 2;
  counter = (counter + 1) % COUNTER_SPAN;
  const t = Math.max(0, Math.min(ms, 2 ** 48 - 1));
  const hi = Math.floor(t / 2 ** 16);
  const lo = t % 2 ** 16;
  const c40 = counter % 2 ** 40;
  const c32 = c40 % 2 ** 32;
  const h = (n: number, shift: number) => HEX[(n >>> shift) & 0xff]!;
  return (
    h(hi, 24) + h(hi, 16) + h(hi, 8) + h(hi, 0) + '-' + h(lo, 8) + h(lo, 0) + '-' +
    GROUP3 + '-' +
    HEX[0x80 | Math.floor(counter / 2 ** 40)]! + HEX[Math.floor(c40 / 2 ** 32)]! + '-' +
    h(c32, 24) + h(c32, 16) + h(c32, 8) + h(c32, 0) + HEX[POOL[o]!]! + HEX[POOL[o + 1]!]!
  );
}

/** The millisecond timestamp a UUIDv7 carries, or undefined for another id. */
export function uuidv7Ms(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
