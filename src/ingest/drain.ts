// An HTTP drain is a declaration: its routes, the media types it takes, a
// decoder from body to events (one result shape, `Decoded`), how it answers
// in its protocol's shape, and how it renders an error. registerDrain does
// the rest once for all of them: the token and its scope, refusing while
// the pipeline cannot write (before the body is read), the media type, the
// Content-Encoding, the idempotency key, counting rejections, storing
// through the pipeline (the ack contract) and the error path.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { requireScope } from '../auth/plugin.js';
import type { TokenRegistry } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { SluiceError } from '../errors.js';
import { acceptRawBodies, decodedBody } from './http-body.js';
import type { NormalizeContext } from './normalize.js';
import { type Decoded, type IngestPipeline, isIdempotencyKey } from './pipeline.js';
import type { Turns } from './turns.js';

/** The first value of a header that may repeat. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export function mediaType(v: string | string[] | undefined): string {
  return (headerValue(v) ?? '').split(';')[0]!.trim().toLowerCase();
}

/** What a drain's decoder is handed. */
export interface DrainInput<W extends string, Q> {
  readonly req: FastifyRequest;
  readonly query: Q;
  readonly wire: W;
  /** The body after its Content-Encoding (or as sent, for `rawBody` wires). */
  readonly body: Buffer;
  readonly limits: Config['limits'];
  /** A normalize context for this request; defaults name the service and host of events that carry none. */
  context(defaults?: { service?: string | undefined; host?: string | undefined }): NormalizeContext;
}

/**
 * A decoder's result once its events are stored: their count in place of
 * them. The events are not kept through the insert's wait (IngestPipeline
 * onStored says why).
 */
export type Stored<R extends Decoded> = Omit<R, 'events'> & { readonly accepted: number };

export interface HttpDrain<W extends string, Q = Record<string, never>, R extends Decoded = Decoded> {
  readonly routes: ReadonlyArray<{ readonly method: 'POST' | 'PUT'; readonly url: string }>;
  /** Media type (as mediaType() gives it; '' = no Content-Type) → the wire format the decoder reads. */
  readonly mediaTypes: ReadonlyMap<string, W>;
  /** The end of the 415 message: what to send instead. */
  readonly accepts: string;
  readonly querystring?: object;
  /** Hooks before the token check (e.g. Elasticsearch's ApiKey header). */
  readonly beforeAuth?: readonly onRequestHookHandler[];
  /** Wires whose body is not Content-Encoded by HTTP (Loki's snappy); the decoder gets the bytes as sent. */
  readonly rawBody?: (wire: W) => boolean;
  /**
   * The key that makes a retry store once. Default: the Idempotency-Key
   * header, refused with a 400 when malformed.
   */
  idempotencyKey?(req: FastifyRequest): string | undefined;
  decode(input: DrainInput<W, Q>): R | Promise<R>;
  /** Answers once the events are stored (or when none was valid): the decoder's result, with the count of events in place of the events. */
  respond(reply: FastifyReply, result: Stored<R>, input: DrainInput<W, Q>): FastifyReply;
  /** Renders an error in the protocol's shape; it is already logged, counted and has its Retry-After. */
  renderError(reply: FastifyReply, err: SluiceError, req: FastifyRequest): FastifyReply;
}

export interface DrainDeps {
  readonly pipeline: IngestPipeline;
  /** Turns on the event loop, shared by every drain of the process. */
  readonly turns: Turns;
  readonly tokens: TokenRegistry;
  /** Logs and counts a failure and sets Retry-After (src/http-errors.ts). */
  prepareError(error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): SluiceError;
}

/** The lenient form of a key header: a malformed value is not used, never refused (Logplex drops a batch for good on a 4xx). */
export function lenientKey(v: string | string[] | undefined): string | undefined {
  const key = headerValue(v);
  return key !== undefined && isIdempotencyKey(key) ? key : undefined;
}

/** Registers a drain's routes on `app` (an encapsulated plugin: the error handler is the drain's own). */
export function registerDrain<W extends string, Q = Record<string, never>, R extends Decoded = Decoded>(app: FastifyInstance, deps: DrainDeps, drain: HttpDrain<W, Q, R>): void {
  const { pipeline, turns } = deps;
  const limits = pipeline.limits;
  acceptRawBodies(app, limits.maxBodyBytes);
  app.setErrorHandler((error: FastifyError, req, reply) => drain.renderError(reply, deps.prepareError(error, req, reply), req));

  const onRequest: onRequestHookHandler[] = [
    ...(drain.beforeAuth ?? []),
    requireScope(deps.tokens, 'ingest'),
    async () => pipeline.checkWritable(),
  ];
  // Not async, and apart from the handler: an async function's suspended
  // frame keeps what it holds, and a request's decoded events held until
  // its insert ends survived every young-generation collection meanwhile
  // and were promoted, 3 MB each time under load (#17).
  const submit = (req: FastifyRequest, decoded: R, key: string | undefined): { stored: Stored<R>; done: Promise<void> } => {
    const { events, ...rest } = decoded;
    pipeline.reject(rest.rejections);
    return { stored: { ...rest, accepted: events.length } as Stored<R>, done: pipeline.store(req.principal!, events, key) };
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const type = mediaType(req.headers['content-type']);
    const wire = drain.mediaTypes.get(type);
    if (wire === undefined) {
      throw new SluiceError('SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type === '' ? '(none)' : type} is not accepted here: ${drain.accepts}`);
    }
    const key = drain.idempotencyKey ? drain.idempotencyKey(req) : headerValue(req.headers['idempotency-key']);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const body = drain.rawBody?.(wire) ? raw : await decodedBody(req, limits.maxDecompressedBytes);
    // The received time is held from the moment it is stamped, not only
    // from store(): a decoder may await (decompression on the thread pool),
    // and the rollup and the alert counts must not pass a received time
    // whose events are not even batched yet.
    const held: Array<() => void> = [];
    const context = (d?: { service?: string | undefined; host?: string | undefined }) => {
      const c = pipeline.context(d);
      held.push(pipeline.hold(c.receivedNs));
      return c;
    };
    try {
      const input: DrainInput<W, Q> = { req, query: req.query as Q, wire, body, limits, context };
      // Decoding and the rows the store call builds are synchronous: one
      // request's worth per turn of the event loop (src/ingest/turns.ts).
      await turns.take();
      const { stored, done } = submit(req, await drain.decode(input), key);
      await done;
      return drain.respond(reply, stored, input);
    } finally {
      for (const release of held) release();
    }
  };
  const schema = drain.querystring ? { querystring: drain.querystring } : undefined;
  for (const r of drain.routes) app.route({ method: r.method, url: r.url, onRequest, ...(schema ? { schema } : {}), handler });
}
