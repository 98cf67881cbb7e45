// X-Sluice-Line-Meta: what `sluice ship` knows of a text/plain batch's lines
// that the lines themselves do not say — when each was read, which stream or
// file it came from, the --attr values, the service and host. With it the
// shipper can send its input as it read it and leave the parsing to the
// server, which does it anyway; the lines' times survive a wait in the spool.
//
// {"v":1,"t0":<epoch ms>,"runs":[[firstLine, msAfterT0, tag, ns], …],
//  "tags":[{"stream":"stderr"}, …],"attrs":{"k":"v"},"service":"api","host":"web-1"}
//
// A run covers the lines from its first line to the next run's first line:
// a line with no time of its own gets the run's millisecond plus `ns` (0 if
// left out) plus its distance from the run's first line in nanoseconds, so
// lines read in the same millisecond keep their order; and the attributes of
// the run's tag (-1: none). Lines count from 0 and every newline counts,
// blank lines too.
import { Ajv } from 'ajv';
import { SluiceError } from '../errors.js';

export interface LineMeta {
  readonly v: 1;
  readonly t0?: number;
  readonly runs?: ReadonlyArray<readonly [number, number, number, number?]>;
  readonly tags?: ReadonlyArray<Readonly<Record<string, string>>>;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly service?: string;
  readonly host?: string;
}

export const LINE_META_HEADER = 'x-sluice-line-meta';

const attributes = (maxProperties: number) => ({
  type: 'object',
  maxProperties,
  propertyNames: { minLength: 1, maxLength: 256 },
  additionalProperties: { type: 'string', maxLength: 4096 },
});

const validate = new Ajv({ allErrors: false }).compile<LineMeta>({
  type: 'object',
  additionalProperties: false,
  required: ['v'],
  properties: {
    v: { const: 1 },
    t0: { type: 'integer', minimum: 0, maximum: 32503680000000 }, // before year 3000
    runs: {
      type: 'array',
      maxItems: 65536,
      items: { type: 'array', minItems: 3, maxItems: 4, items: { type: 'integer', minimum: -1, maximum: 2 ** 40 } },
    },
    tags: { type: 'array', maxItems: 1024, items: attributes(16) },
    attrs: attributes(64),
    service: { type: 'string', maxLength: 256 },
    host: { type: 'string', maxLength: 256 },
  },
});

function invalid(why: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INVALID_LINE_META', `X-Sluice-Line-Meta: ${why}`);
}

export function parseLineMeta(header: string): LineMeta {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch (e) {
    throw invalid(`not JSON: ${(e as Error).message}`);
  }
  if (!validate(parsed)) {
    const e = validate.errors?.[0];
    throw invalid(`${e?.instancePath || '/'} ${e?.message ?? 'is not valid'}`);
  }
  const runs = parsed.runs ?? [];
  if (runs.length > 0 && parsed.t0 === undefined) throw invalid('runs need t0');
  let last = 0;
  for (const [first, ms, tag, ns = 0] of runs) {
    if (first < last) throw invalid('runs must be in line order');
    if (ms < 0 || ns < 0 || ns > 999_999) throw invalid('a run starts at t0 or after, and its ns are 0-999999');
    if (tag >= (parsed.tags?.length ?? 0)) throw invalid(`tag ${tag} is not in tags`);
    last = first;
  }
  return parsed;
}

/**
 * Walks the runs alongside the lines of a body, which come in order: for
 * line `index`, the time a line without its own takes, and the attributes
 * it gets where it has none of its own.
 */
export class LineRuns {
  #next = 0;
  #first = 0;
  #baseNs: bigint | undefined;
  #tag: Readonly<Record<string, string>> | undefined;

  constructor(private readonly meta: LineMeta) {}

  /** Advances to the run holding line `index`. */
  at(index: number): void {
    const runs = this.meta.runs ?? [];
    while (this.#next < runs.length && runs[this.#next]![0] <= index) {
      const [first, ms, tag, ns = 0] = runs[this.#next++]!;
      this.#first = first;
      this.#baseNs = BigInt(this.meta.t0! + ms) * 1_000_000n + BigInt(ns);
      this.#tag = tag >= 0 ? this.meta.tags![tag] : undefined;
    }
  }

  timeNs(index: number): bigint | undefined {
    return this.#baseNs === undefined ? undefined : this.#baseNs + BigInt(index - this.#first);
  }

  /** Adds the run's tag and the batch's attrs where the event has no such attribute. */
  fill(attributes: Record<string, string>): void {
    for (const from of [this.#tag, this.meta.attrs]) {
      if (from === undefined) continue;
      for (const k in from) if (!Object.hasOwn(attributes, k)) attributes[k] = from[k]!;
    }
  }
}
