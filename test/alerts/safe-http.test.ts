// Webhook targets are checked on the address connected to, not the URL text.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressAllowed, parseAllow, postWebhook, WebhookAddressError } from '../../src/alerts/notify/safe-http.js';

const none = parseAllow([]);

describe('webhook addresses', () => {
  it.each(['127.0.0.1', '10.0.0.5', '172.20.1.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'])(
    'refuses %s by default',
    (a) => expect(addressAllowed(a, 'x.example', none)).toBe(false),
  );

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])('takes %s', (a) => expect(addressAllowed(a, 'x.example', none)).toBe(true));

  it('lets the allow-list name hosts, addresses and networks', () => {
    const allow = parseAllow(['hooks.internal', '10.0.0.0/8', '127.0.0.1']);
    expect(addressAllowed('10.9.9.9', 'a', allow)).toBe(true);
    expect(addressAllowed('192.168.0.1', 'hooks.internal', allow)).toBe(true);
    expect(addressAllowed('::ffff:127.0.0.1', 'a', allow)).toBe(true);
    expect(addressAllowed('127.0.0.2', 'a', allow)).toBe(false);
  });

  it('refuses localhost, decimal and octal forms, and mapped IPv6 before connecting', async () => {
    // A listener that must never be reached.
    let reached = 0;
    const server = createServer((_req, res) => {
      reached++;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      for (const url of [`http://localhost:${port}/`, `http://2130706433:${port}/`, `http://0x7f.0.0.1:${port}/`, `http://0177.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
        await expect(postWebhook(url, '{}', {}, { allow: none, timeoutMs: 2000 }), url).rejects.toBeInstanceOf(WebhookAddressError);
      }
      expect(reached).toBe(0);
      const ok = await postWebhook(`http://localhost:${port}/`, '{}', {}, { allow: parseAllow(['127.0.0.1', '::1']), timeoutMs: 2000 });
      expect(ok.status).toBe(200);
      expect(reached).toBe(1);
    } finally {
      server.close();
    }
  });
});
