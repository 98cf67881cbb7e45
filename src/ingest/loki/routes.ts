// POST /loki/api/v1/push (scope ingest): snappy-compressed protobuf (what
// Promtail, Alloy and winston-loki send) or JSON (pino-loki; gzip allowed).
// 204 once stored. Like Loki, entries that cannot be stored answer 400 with
// the reason while the valid ones of the same push are kept; 429/503 with
// Retry-After are the temporary refusals Loki clients retry.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { uncompress } from 'snappyjs';
import { requireScope } from '../../auth/plugin.js';
import type { AppContext } from '../../context.js';
import { SluiceError } from '../../errors.js';
import { checkWritable, normalizeContext, storeEvents } from '../accept.js';
import { headerValue, mediaType, prepareDrainError } from '../drain-errors.js';
import { acceptRawBodies, decodedBody } from '../http-body.js';
import { jsonStreams, lokiEvents, type LokiStream, protobufStreams } from './decode.js';

function sendText(reply: FastifyReply, err: SluiceError): FastifyReply {
  return reply.code(err.statusCode).type('text/plain; charset=utf-8').send(`${err.code}: ${err.message}\n`);
}

function unsnappy(raw: Buffer, max: number): Buffer {
  try {
    return uncompress(raw, max);
  } catch (e) {
    const message = (e as Error).message;
    if (/too big/.test(message)) {
      throw new SluiceError('SLUICE_ERR_DECOMPRESSED_TOO_LARGE', `the body expands past SLUICE_MAX_DECOMPRESSED_BYTES (${max} bytes)`);
    }
    throw new SluiceError('SLUICE_ERR_BAD_SNAPPY', `the body is not snappy-compressed protobuf (Loki expects snappy block format): ${message}`);
  }
}

export async function lokiPushRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const { limits } = ctx.config;
  acceptRawBodies(app, limits.maxBodyBytes);

  app.setErrorHandler((error: FastifyError, req, reply) => sendText(reply, prepareDrainError(ctx, error, req, reply)));

  app.post('/loki/api/v1/push', { onRequest: [requireScope(ctx.tokens, 'ingest'), async () => checkWritable(ctx)] }, async (req, reply) => {
    const type = mediaType(req.headers['content-type']);
    let streams: LokiStream[];
    if (type === 'application/json') {
      const body = await decodedBody(req, limits.maxDecompressedBytes);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (e) {
        throw new SluiceError('SLUICE_ERR_MALFORMED_JSON', `the body is not valid JSON: ${(e as Error).message}`);
      }
      streams = jsonStreams(parsed);
    } else if (type === 'application/x-protobuf' || type === '') {
      // Loki reads a push without Content-Type as protobuf too.
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      streams = protobufStreams(unsnappy(raw, limits.maxDecompressedBytes));
    } else {
      throw new SluiceError('SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type} is not accepted here: use application/x-protobuf (snappy) or application/json`);
    }
    const decoded = lokiEvents(streams, normalizeContext(ctx, {}), limits.maxLineBytes);
    for (const e of decoded.errors) ctx.metrics.rejected.inc({ code: e.code });
    await storeEvents(ctx, req.principal!, decoded.events, headerValue(req.headers['idempotency-key']));
    const first = decoded.errors[0];
    if (first !== undefined) {
      const mixed = decoded.events.length === 0 && decoded.errors.some((e) => e.code !== first.code);
      const code = mixed ? 'SLUICE_ERR_NO_VALID_EVENTS' : first.code;
      const stored = decoded.events.length > 0 ? `; the other ${decoded.events.length} were stored` : '';
      return sendText(reply, new SluiceError(code, `${decoded.errors.length} of ${decoded.entries} entries rejected${stored}: ${first.message}`));
    }
    return reply.code(204).send();
  });
}
