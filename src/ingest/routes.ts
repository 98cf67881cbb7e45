// POST /api/v1/ingest (scope ingest): NDJSON, JSON or text lines, optionally
// gzipped. Invalid events are reported by index; the valid ones are stored.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { AppContext } from '../context.js';
import { SluiceError, isErrorCode } from '../errors.js';
import { checkWritable, normalizeContext, storeEvents } from './accept.js';
import { bodyKind, decodeBody } from './decode-json.js';
import { acceptRawBodies, decodedBody } from './http-body.js';
import { LINE_META_HEADER, parseLineMeta } from './line-meta.js';

const MAX_REPORTED_ERRORS = 100;

export async function ingestRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const { limits } = ctx.config;
  acceptRawBodies(app, limits.maxBodyBytes);

  app.post<{ Querystring: { service?: string; host?: string } }>(
    '/api/v1/ingest',
    {
      onRequest: [requireScope(ctx.tokens, 'ingest'), async () => checkWritable(ctx)],
      schema: {
        querystring: {
          type: 'object',
          properties: { service: { type: 'string', maxLength: 256 }, host: { type: 'string', maxLength: 256 } },
        },
      },
    },
    async (req, reply) => {
      const kind = bodyKind(req.headers['content-type']);
      if (kind === undefined) {
        throw new SluiceError(
          'SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE',
          `Content-Type ${req.headers['content-type'] ?? '(none)'} is not accepted here: use application/x-ndjson, application/json or text/plain`,
        );
      }
      const metaHeader = req.headers[LINE_META_HEADER];
      const meta = typeof metaHeader === 'string' ? parseLineMeta(metaHeader) : undefined;
      if (meta !== undefined && kind !== 'text') throw new SluiceError('SLUICE_ERR_INVALID_LINE_META', 'X-Sluice-Line-Meta goes with a text/plain body only');
      const body = await decodedBody(req, limits.maxDecompressedBytes);
      const nctx = normalizeContext(ctx, { service: meta?.service ?? req.query.service, host: meta?.host ?? req.query.host });
      const decoded = decodeBody(kind, body, nctx, limits.maxLineBytes, meta);
      for (const e of decoded.errors) ctx.metrics.rejected.inc({ code: e.code });
      if (decoded.records === 0) throw new SluiceError('SLUICE_ERR_EMPTY_BODY');
      const errors = decoded.errors.slice(0, MAX_REPORTED_ERRORS);
      if (decoded.events.length === 0) {
        // One shared cause names itself; a mix is "no valid events".
        const codes = new Set(decoded.errors.map((e) => e.code));
        const only = codes.size === 1 ? [...codes][0] : undefined;
        const code = only !== undefined && isErrorCode(only) ? only : 'SLUICE_ERR_NO_VALID_EVENTS';
        const err = new SluiceError(code, `no event in the request was valid: ${decoded.errors[0]?.message ?? ''}`);
        return reply.code(err.statusCode).send({
          statusCode: err.statusCode, code, error: 'Bad Request', message: err.message,
          accepted: 0, rejected: decoded.errors.length, errors,
        });
      }
      const key = req.headers['idempotency-key'];
      await storeEvents(ctx, req.principal!, decoded.events, Array.isArray(key) ? key[0] : key);
      return reply.code(200).send({ accepted: decoded.events.length, rejected: decoded.errors.length, errors });
    },
  );
}
