// The page at `/`: served with a strict CSP and sane caching, sign-in with
// read/admin tokens (refusing bad and ingest-only ones), the token kept in
// the tab and never in a URL, keyboard focus on `/`.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToken, startServer, type TestServer } from '../helpers/server.js';
import { launch, openPage, screenshot, signIn } from './browser.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('serving the page', () => {
  it('answers a browser at / with the app, a strict CSP and no caching; an Elasticsearch client still gets cluster info', async () => {
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();

    const js = await fetch(`${server.url}${asset}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(js.headers.get('content-encoding')).toBe('br');

    const es = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
    expect(es.status).toBe(200);
    expect(((await es.json()) as { tagline: string }).tagline).toBe('You Know, for Search');
  });
});

describe('sign-in', () => {
  it('refuses a wrong token and an ingest-only token with a message, and signs in with a read token', async () => {
    const { page, context, problems } = await openPage(browser, server.url);
    // Where a token comes from, in commands that work after `npm ci` (no `sluice` on the PATH).
    const hint = await page.locator('.signin .hint').textContent();
    expect(hint).toContain('npm start');
    expect(hint).toContain('npx sluice token create');
    expect(hint).not.toContain('sluice serve');
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');

    await page.getByLabel('Token').fill(await makeToken(server, 'ingest'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('ingest token');
    await screenshot(page, 'signin');

    const read = await makeToken(server, 'read');
    await signIn(page, read);
    // A read token sees no admin views.
    expect(await page.getByRole('link', { name: 'Sources' }).count()).toBe(0);
    expect(page.url()).not.toContain(read);
    expect(await page.evaluate('sessionStorage.getItem("sluice.token")')).toBe(read);
    expect(await page.evaluate('localStorage.length')).toBe(0);

    // A reload keeps the tab signed in; signing out forgets the token.
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(await page.evaluate('sessionStorage.getItem("sluice.token")')).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows admin views to an admin token, and a new tab starts signed out', async () => {
    const a = await openPage(browser, server.url);
    await signIn(a.page, server.adminToken);
    await a.page.getByRole('link', { name: 'Sources' }).waitFor();
    await a.context.close();
    const b = await openPage(browser, server.url);
    await b.page.getByLabel('Token').waitFor();
    expect(await b.page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await b.context.close();
  });
});
