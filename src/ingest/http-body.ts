// Request bodies of the ingest routes: raw bytes (the route decodes them),
// gunzipped with a cap on the expanded size.
import { promisify } from 'node:util';
import { gunzip as gunzipCb, inflate as inflateCb } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SluiceError } from '../errors.js';

const gunzip = promisify(gunzipCb);
const inflate = promisify(inflateCb);

/** Takes every content type as a Buffer; the route decides what it accepts. */
export function acceptRawBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
}

export async function decodedBody(req: FastifyRequest, maxDecompressedBytes: number): Promise<Buffer> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new SluiceError('SLUICE_ERR_UNSUPPORTED_ENCODING', `Content-Encoding ${encoding} is not supported: use gzip, deflate or none`);
  }
  try {
    const opts = { maxOutputLength: maxDecompressedBytes };
    return encoding === 'deflate' ? await inflate(raw, opts) : await gunzip(raw, opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SluiceError('SLUICE_ERR_DECOMPRESSED_TOO_LARGE', `the body expands past SLUICE_MAX_DECOMPRESSED_BYTES (${maxDecompressedBytes} bytes)`);
    }
    throw new SluiceError('SLUICE_ERR_BAD_GZIP', `the body is not valid ${encoding}: ${(e as Error).message}`);
  }
}
