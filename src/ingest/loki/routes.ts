// POST /loki/api/v1/push (scope ingest): snappy-compressed protobuf (what
// Promtail, Alloy and winston-loki send) or JSON (pino-loki; gzip allowed).
// 204 once stored. Like Loki, entries that cannot be stored answer 400 with
// the reason while the valid ones of the same push are kept; 429/503 with
// Retry-After are the temporary refusals Loki clients retry.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { uncompress } from 'snappy';
import { SluiceError } from '../../errors.js';
import { type DrainDeps, registerDrain } from '../drain.js';
import { commonCode } from '../pipeline.js';
import { jsonStreams, lokiEvents, type LokiStream, protobufStreams } from './decode.js';

type Wire = 'protobuf' | 'json';
// Loki reads a push without Content-Type as protobuf too.
const WIRES: ReadonlyMap<string, Wire> = new Map([
  ['application/x-protobuf', 'protobuf'],
  ['', 'protobuf'],
  ['application/json', 'json'],
]);

function sendText(reply: FastifyReply, err: SluiceError): FastifyReply {
  return reply.code(err.statusCode).type('text/plain; charset=utf-8').send(`${err.code}: ${err.message}\n`);
}

/** The uncompressed length a snappy block declares (its varint preamble), or -1 when there is none. */
export function snappyLength(raw: Buffer): number {
  let n = 0;
  for (let i = 0, shift = 1; i < 5 && i < raw.length; i++, shift *= 128) {
    const b = raw[i]!;
    n += (b & 0x7f) * shift;
    if (b < 0x80) return n;
  }
  return -1;
}

function badSnappy(detail: string): SluiceError {
  return new SluiceError('SLUICE_ERR_BAD_SNAPPY', `the body is not snappy-compressed protobuf (Loki expects snappy block format): ${detail}`);
}

/**
 * Decompresses off the event loop (the native `snappy` package runs it on
 * libuv's pool), after checking the declared length against the limit so a
 * small body never allocates a huge buffer.
 */
async function unsnappy(raw: Buffer, max: number): Promise<Buffer> {
  const declared = snappyLength(raw);
  if (declared < 0) throw badSnappy('no length preamble');
  if (declared > max) throw new SluiceError('SLUICE_ERR_DECOMPRESSED_TOO_LARGE', `the body expands past SLUICE_MAX_DECOMPRESSED_BYTES (${max} bytes)`);
  try {
    return (await uncompress(raw, { asBuffer: true })) as Buffer;
  } catch (e) {
    throw badSnappy((e as Error).message);
  }
}

function parseJson(body: Buffer): LokiStream[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new SluiceError('SLUICE_ERR_MALFORMED_JSON', `the body is not valid JSON: ${(e as Error).message}`);
  }
  return jsonStreams(parsed);
}

export async function lokiPushRoutes(app: FastifyInstance, opts: { deps: DrainDeps }): Promise<void> {
  registerDrain<Wire>(app, opts.deps, {
    routes: [{ method: 'POST', url: '/loki/api/v1/push' }],
    mediaTypes: WIRES,
    accepts: 'use application/x-protobuf (snappy) or application/json',
    // Snappy is Loki's own framing of the protobuf, not an HTTP Content-Encoding.
    rawBody: (wire) => wire === 'protobuf',
    async decode({ wire, body, limits, context }) {
      const streams = wire === 'json' ? parseJson(body) : protobufStreams(await unsnappy(body, limits.maxDecompressedBytes));
      return lokiEvents(streams, context(), limits.maxLineBytes);
    },
    respond(reply, { accepted, rejections, records }) {
      const first = rejections[0];
      if (first === undefined) return reply.code(204).send();
      const code = accepted === 0 ? commonCode(rejections) : first.code;
      const stored = accepted > 0 ? `; the other ${accepted} were stored` : '';
      return sendText(reply, new SluiceError(code, `${rejections.length} of ${records} entries rejected${stored}: ${first.message}`));
    },
    renderError: (reply, err) => sendText(reply, err),
  });
}
