// POST /v1/logs (scope ingest): OTLP/HTTP logs, protobuf or JSON, optionally
// gzipped. Answers in the request's content type: an ExportLogsServiceResponse
// (partialSuccess for records that could not be stored) or, on failure, a
// google.rpc.Status. Backpressure is 429/503 + Retry-After, the only codes
// OTLP exporters retry (../shared/PROTOCOLS.md §4).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SluiceError } from '../../errors.js';
import { type DrainDeps, mediaType, registerDrain } from '../drain.js';
import { type IdEncoding, otlpEvents } from './decode.js';
import { ErrorInfo, ExportLogsServiceRequest, ExportLogsServiceResponse, RpcStatus } from './schema.js';

type Wire = 'protobuf' | 'json';
const PROTOBUF = 'application/x-protobuf';
const WIRES: ReadonlyMap<string, Wire> = new Map([
  [PROTOBUF, 'protobuf'],
  ['application/protobuf', 'protobuf'],
  ['application/json', 'json'],
]);

// gRPC status codes for the HTTP statuses we answer (the code in a Status
// body is informational; clients act on the HTTP status).
function grpcCode(status: number): number {
  if (status === 400 || status === 413) return 3; // INVALID_ARGUMENT
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 404) return 5; // NOT_FOUND
  if (status === 415) return 3;
  if (status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 503) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';

function sendStatus(reply: FastifyReply, wire: Wire, err: SluiceError): FastifyReply {
  const code = grpcCode(err.statusCode);
  const message = `${err.code}: ${err.message}`;
  reply.code(err.statusCode);
  if (wire === 'protobuf') {
    const detail = ErrorInfo.encode(ErrorInfo.create({ reason: err.code, domain: 'sluice' })).finish();
    const body = RpcStatus.encode(RpcStatus.create({ code, message, details: [{ typeUrl: ERROR_INFO, value: detail }] })).finish();
    return reply.type(PROTOBUF).send(Buffer.from(body));
  }
  return reply.type('application/json').send({ code, message, details: [{ '@type': ERROR_INFO, reason: err.code, domain: 'sluice' }] });
}

function decode(wire: Wire, body: Buffer): { request: unknown; ids: IdEncoding } {
  if (wire === 'json') {
    try {
      return { request: JSON.parse(body.toString('utf8')) as unknown, ids: 'hex' };
    } catch (e) {
      throw new SluiceError('SLUICE_ERR_MALFORMED_JSON', `the body is not valid JSON: ${(e as Error).message}`);
    }
  }
  try {
    const msg = ExportLogsServiceRequest.decode(body);
    // Same keys as OTLP/JSON; 64-bit numbers as decimal strings, bytes as base64.
    return { request: ExportLogsServiceRequest.toObject(msg, { longs: String, bytes: String }), ids: 'base64' };
  } catch (e) {
    throw new SluiceError('SLUICE_ERR_INVALID_PROTOBUF', `the body is not a valid ExportLogsServiceRequest: ${(e as Error).message}`);
  }
}

export async function otlpRoutes(app: FastifyInstance, opts: { deps: DrainDeps }): Promise<void> {
  registerDrain<Wire>(app, opts.deps, {
    routes: [{ method: 'POST', url: '/v1/logs' }],
    mediaTypes: WIRES,
    accepts: 'use application/x-protobuf or application/json',
    decode({ wire, body, context }) {
      const { request, ids } = decode(wire, body);
      return otlpEvents(request, context(), ids);
    },
    respond(reply, { rejections }, { wire }) {
      // partialSuccess stays unset on full success (the spec says so).
      const response =
        rejections.length > 0 ? { partialSuccess: { rejectedLogRecords: String(rejections.length), errorMessage: rejections[0]!.message } } : {};
      if (wire === 'json') return reply.code(200).type('application/json').send(response);
      return reply.code(200).type(PROTOBUF).send(Buffer.from(ExportLogsServiceResponse.encode(ExportLogsServiceResponse.fromObject(response)).finish()));
    },
    renderError: (reply, err, req) => sendStatus(reply, WIRES.get(mediaType(req.headers['content-type'])) ?? 'json', err),
  });
}
