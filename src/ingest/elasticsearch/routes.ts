// Where an Elasticsearch node would answer, at the root (rsyslog's
// omelasticsearch and others take no path): POST [/<index>]/_bulk (scope
// ingest) and the probes real shippers make before or around it
// (../shared/PROTOCOLS.md §5–6). Every answer carries X-Elastic-Product, or
// the official clients refuse the server. The probes need no token: they
// reveal nothing, and Beats, Vector and rsyslog send them before any data.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebPage } from '../../web.js';
import type { AppContext } from '../../context.js';
import { errorBody, type ErrorCode, SluiceError } from '../../errors.js';
import { type DrainDeps, headerValue, registerDrain } from '../drain.js';
import { type BulkParsed, bulkResponse, parseBulk } from './bulk.js';

// The version shippers read from GET /: 8.x makes Vector and Fluent Bit
// leave out `_type`, and Beats 8 accept it.
const VERSION = '8.17.0';
const CONTENT_TYPES = new Set(['', 'application/json', 'application/x-ndjson', 'application/ndjson', 'application/vnd.elasticsearch+x-ndjson', 'application/vnd.elasticsearch+json']);

const ERROR_TYPES: Partial<Record<number, string>> = {
  400: 'illegal_argument_exception',
  401: 'security_exception',
  403: 'security_exception',
  413: 'content_too_long_exception',
  415: 'media_type_header_exception',
  429: 'es_rejected_execution_exception',
  503: 'unavailable_shards_exception',
};

// Temporary refusals become 429, the status every ES shipper retries (the
// whole request: nothing of it was stored, see docs/drains.md).
const BACKPRESSURE: ReadonlySet<ErrorCode> = new Set(['SLUICE_ERR_OVERLOADED', 'SLUICE_ERR_RATE_LIMITED', 'SLUICE_ERR_DISK_FULL']);

function sendEsError(reply: FastifyReply, err: SluiceError): FastifyReply {
  const status = BACKPRESSURE.has(err.code) ? 429 : err.statusCode;
  const cause = { type: ERROR_TYPES[status] ?? 'exception', reason: err.message, sluice_code: err.code };
  return reply.code(status).type('application/json').send(JSON.stringify({ error: { root_cause: [cause], ...cause }, status }));
}

// Elastic clients send `Authorization: ApiKey <base64(id:key)>` (or the key
// as given); the token is the key, or the whole value when it is a token.
function apiKeyAsBearer(req: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^ApiKey\s+(\S+)$/i.exec(h.trim());
  if (m) {
    const raw = m[1]!;
    const decoded = raw.startsWith('sluice_') ? '' : Buffer.from(raw, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const key = colon > 0 && /^[\x21-\x7e]+$/.test(decoded) ? decoded.slice(colon + 1) : raw;
    req.headers.authorization = `Bearer ${key}`;
  }
  done();
}

function clusterInfo(uuid: string) {
  return {
    name: 'sluice',
    cluster_name: 'sluice',
    cluster_uuid: uuid,
    version: {
      number: VERSION, build_flavor: 'default', build_type: 'sluice', build_hash: 'sluice', build_date: '2024-12-11T12:08:05.663969764Z',
      build_snapshot: false, lucene_version: '9.12.0', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  };
}

export async function elasticsearchRoutes(app: FastifyInstance, opts: { ctx: AppContext; deps: DrainDeps; page?: WebPage | undefined }): Promise<void> {
  const { ctx } = opts;
  const uuid = randomUUID();

  app.addHook('onRequest', async (_req, reply) => {
    void reply.header('X-Elastic-Product', 'Elasticsearch');
  });
  // First: it also sets the error handler and body parsers the probes below use.
  registerDrain<'bulk', Record<string, never>, BulkParsed>(app, opts.deps, {
    routes: ['/_bulk', '/:index/_bulk'].flatMap((url) => (['POST', 'PUT'] as const).map((method) => ({ method, url }))),
    mediaTypes: new Map([...CONTENT_TYPES].map((t) => [t, 'bulk'])),
    accepts: 'use application/x-ndjson or application/json',
    beforeAuth: [apiKeyAsBearer],
    decode: ({ req, body, limits, context }) =>
      parseBulk(body.toString('utf8'), (req.params as { index?: string }).index, context(), limits.maxLineBytes),
    respond: (reply, parsed) => reply.code(200).type('application/json').send(bulkResponse(parsed.items, Math.round(reply.elapsedTime))),
    renderError: sendEsError,
  });

  const health = () => (ctx.disk.low || ctx.closing ? 'yellow' : 'green');

  // HEAD / comes with it (fastify answers HEAD for every GET route).
  app.get('/', async (req, reply) => {
    // A browser asking for a page is not a shipper: it gets the web app
    // (when this process serves the API), else a 404.
    if (/text\/html/i.test(headerValue(req.headers.accept) ?? '')) {
      reply.removeHeader('X-Elastic-Product');
      if (opts.page) return opts.page.send(reply);
      return reply.code(404).send(errorBody(new SluiceError('SLUICE_ERR_NOT_FOUND', 'no route GET /')));
    }
    return clusterInfo(uuid);
  });

  app.get('/_cluster/health', async () => ({
    cluster_name: 'sluice', status: health(), timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1,
    active_primary_shards: 0, active_shards: 0, relocating_shards: 0, initializing_shards: 0, unassigned_shards: 0,
    delayed_unassigned_shards: 0, number_of_pending_tasks: 0, number_of_in_flight_fetch: 0,
    task_max_waiting_in_queue_millis: 0, active_shards_percent_as_number: 100.0,
  }));

  app.get<{ Querystring: { format?: string } }>('/_cat/health', async (req, reply) => {
    const now = new Date(ctx.clock.nowMs());
    const epoch = Math.floor(now.getTime() / 1000);
    const time = now.toISOString().slice(11, 19);
    if (req.query.format === 'json') {
      return [{ epoch: String(epoch), timestamp: time, cluster: 'sluice', status: health(), 'node.total': '1', 'node.data': '1', shards: '0', pri: '0', relo: '0', init: '0', unassign: '0', pending_tasks: '0', max_task_wait_time: '-', active_shards_percent: '100.0%' }];
    }
    return reply.type('text/plain; charset=UTF-8').send(`${epoch} ${time} sluice ${health()} 1 1 0 0 0 0 0 0 - 100.0%\n`);
  });

  app.get('/_license', async () => ({ license: { status: 'active', uid: uuid, type: 'basic', issue_date_in_millis: 0, max_nodes: 1000, issued_to: 'sluice', issuer: 'sluice' } }));

  // Beats' index management: say the template and policy exist, so setup
  // goes on without changing anything.
  app.get<{ Params: { name: string } }>('/_index_template/:name', async (req) => ({ index_templates: [{ name: req.params.name, index_template: { index_patterns: [`${req.params.name}*`], template: {} } }] }));
  app.get<{ Params: { name: string } }>('/_ilm/policy/:name', async (req) => ({ [req.params.name]: { version: 1, policy: { phases: {} } } }));
  app.put('/_index_template/:name', async () => ({ acknowledged: true }));
  app.put('/_ilm/policy/:name', async () => ({ acknowledged: true }));
  const refreshed = async () => ({ _shards: { total: 1, successful: 1, failed: 0 } });
  app.get('/:index/_refresh', refreshed);
  app.post('/:index/_refresh', refreshed);
  app.post('/_refresh', refreshed);
}
