// POST /api/v1/ingest (scope ingest): NDJSON, JSON or text lines, optionally
// gzipped. Invalid events are reported by index; the valid ones are stored.
import type { FastifyInstance } from 'fastify';
import { errorBody, SluiceError } from '../errors.js';
import { BODY_KINDS, type BodyKind, decodeBody } from './decode-json.js';
import { type DrainDeps, registerDrain } from './drain.js';
import { LINE_META_HEADER, parseLineMeta } from './line-meta.js';
import { commonCode } from './pipeline.js';

const MAX_REPORTED_ERRORS = 100;

export async function ingestRoutes(app: FastifyInstance, opts: { deps: DrainDeps }): Promise<void> {
  registerDrain<BodyKind, { service?: string; host?: string }>(app, opts.deps, {
    routes: [{ method: 'POST', url: '/api/v1/ingest' }],
    mediaTypes: BODY_KINDS,
    accepts: 'use application/x-ndjson, application/json or text/plain',
    querystring: {
      type: 'object',
      properties: { service: { type: 'string', maxLength: 256 }, host: { type: 'string', maxLength: 256 } },
    },
    decode({ req, query, wire, body, limits, context }) {
      const metaHeader = req.headers[LINE_META_HEADER];
      const meta = typeof metaHeader === 'string' ? parseLineMeta(metaHeader) : undefined;
      if (meta !== undefined && wire !== 'text') throw new SluiceError('SLUICE_ERR_INVALID_LINE_META', 'X-Sluice-Line-Meta goes with a text/plain body only');
      const nctx = context({ service: meta?.service ?? query.service, host: meta?.host ?? query.host });
      const decoded = decodeBody(wire, body, nctx, limits.maxLineBytes, meta);
      if (decoded.records === 0) throw new SluiceError('SLUICE_ERR_EMPTY_BODY');
      return decoded;
    },
    respond(reply, { accepted, rejections }) {
      const errors = rejections.slice(0, MAX_REPORTED_ERRORS);
      if (accepted === 0) {
        const err = new SluiceError(commonCode(rejections), `no event in the request was valid: ${rejections[0]?.message ?? ''}`);
        return reply.code(err.statusCode).send({ ...errorBody(err), accepted: 0, rejected: rejections.length, errors });
      }
      return reply.code(200).send({ accepted, rejected: rejections.length, errors });
    },
    renderError: (reply, err) => reply.code(err.statusCode).send(errorBody(err)),
  });
}
