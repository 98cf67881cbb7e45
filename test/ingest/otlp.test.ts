// POST /v1/logs with the OpenTelemetry JS SDK's own OTLP exporters (JSON and
// protobuf), over a real socket into the real embedded engine.
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { ErrorInfo, ExportLogsServiceRequest, ExportLogsServiceResponse, RpcStatus } from '../../src/ingest/otlp/schema.js';
import { makeToken, searchAll, startServer, type TestServer } from '../helpers/server.js';
import { testTimes } from '../helpers/times.js';

const t = testTimes();
const WINDOW = t.range(-3_600_000, 3 * 3_600_000);

let s: TestServer;
let ingestToken: string;
let readToken: string;

beforeAll(async () => {
  s = await startServer();
  ingestToken = await makeToken(s, 'ingest', 'otel-app');
  readToken = await makeToken(s, 'read');
});
afterAll(async () => s.close());

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

type ExporterOptions = NonNullable<ConstructorParameters<typeof ProtoExporter>[0]>;

/** Emits a known set of records through the SDK and flushes (which rejects if the export failed). */
async function sendWithSdk(exporter: JsonExporter | ProtoExporter, service: string): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'otel-host', 'deployment.environment': 'test' }),
    processors: [new BatchLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('app.logger', '1.0.0');
  const spanCtx = trace.setSpanContext(context.active(), { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED });
  const t0 = t.ms(3_600_000);
  logger.emit({
    timestamp: [Math.floor(t0 / 1000), 123_456_789],
    severityNumber: 17,
    severityText: 'ERROR',
    body: 'payment failed',
    attributes: { 'order.id': 42, retry: true, ratio: 0.5, tags: ['a', 'b'] },
    context: spanCtx,
  });
  logger.emit({ timestamp: t0 + 1000, severityNumber: 13, body: { event: 'slow', ms: 1500 } });
  logger.emit({ timestamp: t0 + 2000, severityText: 'debug', body: 'text level only' });
  logger.emit({ timestamp: t0 + 3000, body: 'no level at all', eventName: 'app.start' });
  await provider.forceFlush();
  await provider.shutdown();
}

function expectStored(events: Array<Record<string, unknown>>, service: string): void {
  expect(events).toHaveLength(4);
  const by = Object.fromEntries(events.map((e) => [e.message, e]));
  expect(by['payment failed']).toMatchObject({
    service, host: 'otel-host', level: 'error', severity: 17, source: 'otel-app',
    time: t.rfc(3_600_000, 123_456_789n), trace_id: TRACE, span_id: SPAN,
    attributes: {
      'order.id': '42', retry: 'true', ratio: '0.5', tags: '["a","b"]',
      'deployment.environment': 'test', 'otel.scope.name': 'app.logger', 'otel.scope.version': '1.0.0',
    },
  });
  const attrs = (by['payment failed'] as { attributes: Record<string, string> }).attributes;
  expect(attrs['service.name']).toBeUndefined();
  expect(attrs['host.name']).toBeUndefined();
  expect(by['{"event":"slow","ms":1500}']).toMatchObject({ level: 'warn', severity: 13, time: t.rfc(3_601_000), trace_id: '' });
  expect(by['text level only']).toMatchObject({ level: 'debug' });
  expect(by['no level at all']).toMatchObject({ level: 'info', attributes: { 'event.name': 'app.start' } });
}

async function post(body: Buffer | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${s.url}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${ingestToken}`, ...headers }, body });
}

describe('OTLP/HTTP logs', () => {
  it('stores what the SDK exporter sends as JSON, fields mapped', async () => {
    await sendWithSdk(new JsonExporter({ url: `${s.url}/v1/logs`, headers: { Authorization: `Bearer ${ingestToken}` } }), 'otlp-json');
    expectStored(await searchAll(s.url, readToken, { service: 'otlp-json', ...WINDOW }), 'otlp-json');
  });

  it('stores what the SDK exporter sends as gzipped protobuf, with Basic auth', async () => {
    const basic = 'Basic ' + Buffer.from(`otel:${ingestToken}`).toString('base64');
    const compression = 'gzip' as ExporterOptions['compression'];
    await sendWithSdk(new ProtoExporter({ url: `${s.url}/v1/logs`, headers: { Authorization: basic }, compression }), 'otlp-proto');
    expectStored(await searchAll(s.url, readToken, { service: 'otlp-proto', ...WINDOW }), 'otlp-proto');
  });

  it('answers 503 + Retry-After under backpressure, and the exporter retries until stored once', async () => {
    const batcher = s.ctx.batcher;
    const submit = batcher.submit.bind(batcher);
    let refused = 0;
    batcher.submit = (...args) => {
      if (refused < 1) {
        refused++;
        return Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
      }
      return submit(...args);
    };
    try {
      await sendWithSdk(new ProtoExporter({ url: `${s.url}/v1/logs`, headers: { Authorization: `Bearer ${ingestToken}` } }), 'otlp-retry');
    } finally {
      batcher.submit = submit;
    }
    expect(refused).toBe(1);
    expectStored(await searchAll(s.url, readToken, { service: 'otlp-retry', ...WINDOW }), 'otlp-retry');
  });

  it('answers 503 with Retry-After and a google.rpc.Status in the request content type', async () => {
    const batcher = s.ctx.batcher;
    const submit = batcher.submit.bind(batcher);
    batcher.submit = () => Promise.reject(new SluiceError('SLUICE_ERR_OVERLOADED', undefined, { retryAfter: 1 }));
    try {
      const body = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] })).finish();
      const res = await post(Buffer.from(body), { 'content-type': 'application/x-protobuf' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
      const status = RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await res.arrayBuffer()))) as { code: number; message: string; details: Array<{ value: Uint8Array }> };
      expect(status.code).toBe(14);
      expect(status.message).toMatch(/^SLUICE_ERR_OVERLOADED/);
      expect(ErrorInfo.toObject(ErrorInfo.decode(status.details[0]!.value))).toEqual({ reason: 'SLUICE_ERR_OVERLOADED', domain: 'sluice' });
    } finally {
      batcher.submit = submit;
    }
  });

  it('reports rejected records as partialSuccess and stores their valid neighbours', async () => {
    const attrs = Array.from({ length: s.config.limits.maxAttributes + 1 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    const request = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp-partial' } }] },
        scopeLogs: [{ logRecords: [
          { timeUnixNano: String(t.ns(3_600_000)), body: { stringValue: 'good one' }, severityNumber: 9 },
          { body: { stringValue: 'too many' }, attributes: attrs },
          { timeUnixNano: 'yesterday', body: { stringValue: 'bad time' } },
          { observedTimeUnixNano: Number(t.ns(3_601_000)), body: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, { bytesValue: 'AQI=' }] } } }] } } },
        ] }],
      }],
    };
    const json = await post(JSON.stringify(request), { 'content-type': 'application/json' });
    expect(json.status).toBe(200);
    const body = (await json.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(body.partialSuccess.rejectedLogRecords).toBe('2');
    expect(body.partialSuccess.errorMessage).toMatch(/attributes/);
    const proto = await post(Buffer.from(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject({ resourceLogs: request.resourceLogs.map((r) => ({ ...r, scopeLogs: [{ logRecords: [r.scopeLogs[0]!.logRecords[1]] }] })) })).finish()), {
      'content-type': 'application/x-protobuf',
    });
    expect(proto.status).toBe(200);
    const decoded = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(new Uint8Array(await proto.arrayBuffer())), { longs: String });
    expect(decoded).toMatchObject({ partialSuccess: { rejectedLogRecords: '1' } });
    const events = await searchAll(s.url, readToken, { service: 'otlp-partial', ...WINDOW });
    expect(events.map((e) => e.message).sort()).toEqual(['good one', '{"a":[1,"AQI="]}']);
    expect(events.find((e) => e.message === 'good one')).toMatchObject({ time: t.rfc(3_600_000), level: 'info' });
  });

  it('answers a full success with an empty body of the request type', async () => {
    const res = await post(JSON.stringify({ resourceLogs: [] }), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const gz = await post(gzipSync(Buffer.alloc(0)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect((await gz.arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses bad input with a clear 4xx Status in the request content type', async () => {
    const badProto = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(badProto.status).toBe(400);
    expect(badProto.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
    expect(RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await badProto.arrayBuffer())))).toMatchObject({ code: 3, message: expect.stringMatching(/^SLUICE_ERR_INVALID_PROTOBUF/) });

    const badJson = await post('{"resourceLogs":[', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 3, message: expect.stringMatching(/^SLUICE_ERR_MALFORMED_JSON/), details: [{ reason: 'SLUICE_ERR_MALFORMED_JSON' }] });

    const badShape = await post('{"resourceLogs":{"x":1}}', { 'content-type': 'application/json' });
    expect(badShape.status).toBe(400);
    expect(await badShape.json()).toMatchObject({ details: [{ reason: 'SLUICE_ERR_VALIDATION' }] });

    const badType = await post('hello', { 'content-type': 'text/plain' });
    expect(badType.status).toBe(415);
    expect(await badType.json()).toMatchObject({ details: [{ reason: 'SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE' }] });

    const badGzip = await post('not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
    expect(await badGzip.json()).toMatchObject({ details: [{ reason: 'SLUICE_ERR_BAD_GZIP' }] });

    const noToken = await fetch(`${s.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ code: 16, details: [{ reason: 'SLUICE_ERR_UNAUTHORIZED' }] });

    const readOnly = await fetch(`${s.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${readToken}` }, body: '{}' });
    expect(readOnly.status).toBe(403);
  });
});
