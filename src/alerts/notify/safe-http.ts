// POSTs a webhook without letting a rule reach inside the network: the
// address actually connected to (after DNS) must not be loopback,
// link-local, private or otherwise special unless SLUICE_WEBHOOK_ALLOW names
// it. Checking the resolved address — not the URL text — covers localhost,
// ::ffff:127.0.0.1, decimal and octal IPs (the URL parser normalises those)
// and DNS names that resolve inside. Redirects are not followed; only a short
// prefix of the response body is kept.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { BlockList, isIP } from 'node:net';

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv6');
}

export class WebhookAddressError extends Error {}

export interface Allow {
  readonly hosts: ReadonlySet<string>;
  readonly nets: BlockList;
}

export function parseAllow(entries: readonly string[]): Allow {
  const hosts = new Set<string>();
  const nets = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    const family = isIP(addr ?? '');
    if (family === 0) hosts.add(e.toLowerCase());
    else if (bits !== undefined) nets.addSubnet(addr!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    else nets.addAddress(addr!, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { hosts, nets };
}

function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function addressAllowed(address: string, hostname: string, allow: Allow): boolean {
  if (allow.hosts.has(hostname.toLowerCase())) return true;
  const a = unmapped(address);
  if (allow.nets.check(a.address, a.family)) return true;
  return !BLOCKED.check(a.address, a.family);
}

/** TLS for https targets: extra CAs to trust, a client certificate. */
export interface TlsFiles {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface PostResult {
  status: number;
  body: string;
}

const KEEP_BYTES = 512;

export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { allow: Allow; timeoutMs: number; tls?: TlsFiles },
): Promise<PostResult> {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname) !== 0 && !addressAllowed(hostname, hostname, opts.allow)) {
    return Promise.reject(new WebhookAddressError(`${hostname} is a loopback, link-local or private address; add it to SLUICE_WEBHOOK_ALLOW to allow it`));
  }
  // Every address DNS gives is checked before the socket connects to it.
  const lookup = (host: string, options: object, cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(host, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, '', 0);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !addressAllowed(a.address, hostname, opts.allow));
      if (bad) {
        return cb(new WebhookAddressError(`${host} resolves to ${bad.address}, a loopback, link-local or private address; add it to SLUICE_WEBHOOK_ALLOW to allow it`), '', 0);
      }
      if ((options as { all?: boolean }).all) return cb(null, list);
      cb(null, list[0]!.address, list[0]!.family);
    });
  };
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Sluice-Webhook/1', ...headers },
        lookup: lookup as never,
        timeout: opts.timeoutMs,
        // With a CA given, the system's roots are still trusted: the CA is added to them.
        ...(opts.tls?.ca ? { ca: [...rootCertificates, String(opts.tls.ca)] } : {}),
        ...(opts.tls?.cert ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (d: Buffer) => {
          if (kept < KEEP_BYTES) {
            chunks.push(d.subarray(0, KEEP_BYTES - kept));
            kept += Math.min(d.length, KEEP_BYTES - kept);
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
