// The live tail in a real browser: events sent through the ingest API
// appear, newest at the bottom; the filter narrows them (and a bad one is
// shown under the box, the previous filter and its rows kept); pause holds
// the view and counts what waits; a lost socket reconnects without gaps or
// repeats; 5,000 events keep the DOM small; scrolling up stops the
// auto-scroll until "Jump to live".
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { launch, openPage, screenshot, signIn } from './browser.js';

let server: TestServer;
let browser: Browser;
let ingestToken: string;

beforeAll(async () => {
  server = await startServer();
  browser = await launch();
  ingestToken = await makeToken(server, 'ingest');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function send(rows: object[]): Promise<void> {
  const res = await ingest(server.url, ingestToken, ndjson(rows));
  expect(res.status).toBe(200);
}

const row = (page: Page, text: string) => page.locator('.tail-row', { hasText: text });
const rowIds = async (page: Page) => (await page.evaluate('[...document.querySelectorAll(".tail-row")].map((r) => r.dataset.id)')) as string[];
const rowMessages = async (page: Page) => (await page.evaluate('[...document.querySelectorAll(".tail-row .msg")].map((m) => m.textContent)')) as string[];
const rowCount = async (page: Page) => (await page.evaluate('document.querySelectorAll(".tail-row").length')) as number;
const eventCount = async (page: Page) => Number(((await page.locator('.tail-count').textContent()) ?? '').replace(/\D/g, ''));

async function openTail(viewport?: { width: number; height: number }, colorScheme?: 'light' | 'dark') {
  const opened = await openPage(browser, server.url, viewport, colorScheme);
  await signIn(opened.page, server.adminToken);
  await opened.page.locator('.tail-state[data-state="live"]').waitFor();
  return opened;
}

/** A signed-in live tail whose sockets the test can reach (window.__sockets) to cut one. */
async function openWithSockets(token: string) {
  const opened = await openPage(browser, server.url);
  await opened.context.addInitScript(
    'const Native = WebSocket; window.__sockets = []; window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__sockets.push(this); } };',
  );
  await opened.page.reload();
  await signIn(opened.page, token);
  await opened.page.locator('.tail-state[data-state="live"]').waitFor();
  return opened;
}

const SAMPLE = [
  { level: 'info', service: 'api', host: 'web-1', msg: 'GET /orders/42 200 in 12 ms', status: 200 },
  { level: 'debug', service: 'worker', host: 'worker-2', msg: 'job 7731 picked from queue emails' },
  { level: 'warn', service: 'api', host: 'web-2', msg: 'slow query: SELECT * FROM orders took 912 ms' },
  { level: 'info', service: 'web', host: 'web-1', msg: 'user 42 signed in' },
  { level: 'error', service: 'api', host: 'web-1', msg: 'payment failed: card declined', order: 42, 'req.id': 'r-19' },
  { level: 'info', service: 'worker', host: 'worker-1', msg: 'job 7731 done in 1.2 s' },
  { level: 'fatal', service: 'billing', host: 'bill-1', msg: 'cannot reach ledger database; exiting' },
  { level: 'trace', service: 'web', host: 'web-2', msg: 'render /dashboard 8 ms' },
];

describe('live tail', () => {
  it('shows events as they are ingested, newest at the bottom, coloured by level; a row opens its fields', async () => {
    const { page, context, problems } = await openTail();
    await send(SAMPLE.slice(0, 4));
    await row(page, 'user 42 signed in').waitFor();
    await send(SAMPLE.slice(4));
    await row(page, 'render /dashboard').waitFor();

    const msgs = await rowMessages(page);
    expect(msgs.indexOf('payment failed: card declined')).toBeGreaterThan(msgs.indexOf('user 42 signed in'));
    expect(msgs.at(-1)).toBe('render /dashboard 8 ms');
    expect(await row(page, 'payment failed').locator('.lvl').getAttribute('class')).toContain('lvl-error');
    expect(await row(page, 'payment failed').getAttribute('data-id')).toMatch(/^[0-9a-f-]{36}$/);

    await row(page, 'payment failed').click();
    const detail = page.getByRole('complementary', { name: 'Event' });
    await detail.waitFor();
    expect(await detail.textContent()).toContain('req.id');
    expect(await detail.locator('a', { hasText: 'Open event' }).getAttribute('href')).toMatch(/^#\/event\/[0-9a-f-]{36}$/);
    await screenshot(page, 'tail');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('narrows to the filter: a non-matching event does not appear, a matching one does', async () => {
    const { page, context, problems } = await openTail();
    await send([{ service: 'flt-beta', msg: 'beta one' }, { service: 'flt-alpha', msg: 'alpha one' }]);
    await row(page, 'alpha one').waitFor();
    expect(await row(page, 'beta one').count()).toBe(1);

    await page.getByLabel('Filter').fill('service:flt-alpha');
    await page.getByLabel('Filter').press('Enter');
    // The list starts over with the filter's backfill: beta is gone, alpha is back.
    await expect.poll(async () => [await row(page, 'beta one').count(), await row(page, 'alpha one').count()], { timeout: 15_000 }).toEqual([0, 1]);
    expect(page.url()).toContain('#/tail?q=service%3Aflt-alpha');

    // The backfill came after the server took the filter, so live events now
    // meet it; both in one insert: if alpha shows, beta was filtered out.
    await send([{ service: 'flt-beta', msg: 'beta two' }, { service: 'flt-alpha', msg: 'alpha two' }]);
    await row(page, 'alpha two').waitFor();
    expect(await row(page, 'beta two').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('holds the view still while paused, counting what waits, and shows it after resume', async () => {
    const { page, context, problems } = await openTail();
    await page.getByLabel('Filter').fill('service:pause-test');
    await page.getByLabel('Filter').press('Enter');
    await send([{ service: 'pause-test', msg: 'before pause' }]);
    await row(page, 'before pause').waitFor();
    expect(await page.locator('.tail-count').textContent()).toBe('1 event');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
    const before = await rowIds(page);

    await send([{ service: 'pause-test', msg: 'during pause' }, { service: 'pause-test', msg: 'during pause too' }]);
    const state = page.locator('.tail-state');
    await expect.poll(() => state.textContent(), { timeout: 15_000 }).toBe('Paused · 2 new');
    expect(await row(page, 'during pause').count()).toBe(0);
    expect(await rowIds(page)).toEqual(before);

    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await row(page, 'during pause too').waitFor();
    expect(await page.locator('.tail-count').textContent()).toBe('3 events');
    expect(await state.textContent()).toBe('Live');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a filter the server cannot parse under the box, keeps the rows and the previous filter; Esc clears it', async () => {
    const { page, context, problems } = await openTail();
    expect(await page.getByLabel('Filter').getAttribute('placeholder')).toContain('Enter to apply');
    await page.getByLabel('Filter').fill('service:bad-filter-test');
    await page.getByLabel('Filter').press('Enter');
    await send([{ service: 'bad-filter-test', msg: 'kept row' }]);
    await row(page, 'kept row').waitFor();

    await page.getByLabel('Filter').fill('service:api (timeout');
    await page.getByLabel('Filter').press('Enter');
    const alert = page.locator('.query-box [role="alert"]');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toContain('unclosed');
    expect(await page.getByLabel('Filter').getAttribute('aria-invalid')).toBe('true');
    expect(await alert.locator('.caret').textContent()).toMatch(/\n {12}\^$/);
    expect(await alert.textContent()).toContain('still tailing the previous filter');
    // What the message says holds: the rows stay, and the server still runs the old filter.
    expect(await row(page, 'kept row').count()).toBe(1);
    await send([{ service: 'bad-filter-other', msg: 'not this one' }, { service: 'bad-filter-test', msg: 'still tailing' }]);
    await row(page, 'still tailing').waitFor();
    expect(await row(page, 'not this one').count()).toBe(0);
    expect(await row(page, 'kept row').count()).toBe(1);

    await page.getByLabel('Filter').press('Escape');
    await expect.poll(() => alert.count()).toBe(0);
    expect(await page.getByLabel('Filter').inputValue()).toBe('');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('reconnects after the socket closes and fills the gap without repeating events', async () => {
    const { page, context, problems } = await openWithSockets(server.adminToken);
    await send([{ service: 'reconnect-test', msg: 'before the cut' }]);
    await row(page, 'before the cut').waitFor();

    await page.evaluate('window.__sockets.at(-1).close()');
    await send([{ service: 'reconnect-test', msg: 'while away' }]);
    await row(page, 'while away').waitFor({ timeout: 30_000 });
    expect(await page.evaluate('window.__sockets.length')).toBeGreaterThanOrEqual(2);
    // The catch-up starts at the last event's time, so it sends that one again: shown once.
    expect(await row(page, 'before the cut').count()).toBe(1);
    const ids = await rowIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('stops, and signs the tab out, when the token was revoked', async () => {
    const name = `tail-revoked-${Date.now()}`;
    const { page, context, problems } = await openWithSockets(await makeToken(server, 'read', name));
    await server.ctx.tokens.revoke(name);
    await page.evaluate('window.__sockets.at(-1).close()');
    // The reconnect's auth is refused: no retry loop, back to the sign-in form.
    await page.getByLabel('Token').waitFor({ timeout: 30_000 });
    expect(await page.evaluate('sessionStorage.getItem("sluice.token")')).toBeNull();
    expect(await page.evaluate('window.__sockets.length')).toBe(2);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits 390×844 and dark mode', async () => {
    const mobile = await openTail({ width: 390, height: 844 });
    await row(mobile.page, 'render /dashboard').waitFor();
    expect(await mobile.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    // The service stays in view beside the message.
    const svc = row(mobile.page, 'render /dashboard').locator('.svc');
    expect(await svc.isVisible()).toBe(true);
    const box = (await svc.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await svc.textContent()).toBe('web');
    await mobile.page.mouse.move(0, 0); // no hover left over from signing in
    await screenshot(mobile.page, 'tail-mobile');
    expect(mobile.problems).toEqual([]);
    await mobile.context.close();

    const dark = await openTail(undefined, 'dark');
    await row(dark.page, 'render /dashboard').waitFor();
    await row(dark.page, 'payment failed').click();
    await screenshot(dark.page, 'tail-dark');
    expect(dark.problems).toEqual([]);
    await dark.context.close();
  });

  it('keeps the DOM bounded with 5,000 events; scrolling up stops the auto-scroll until "Jump to live"', async () => {
    const { page, context, problems } = await openTail();
    // Once a new event shows, the backfill (sent before live events) is in the count.
    await send([{ service: 'bulk', msg: 'bulk marker' }]);
    await row(page, 'bulk marker').waitFor();
    const start = await eventCount(page);
    for (let b = 0; b < 5; b++) await send(Array.from({ length: 1000 }, (_, i) => ({ service: 'bulk', level: i % 7 === 0 ? 'warn' : 'info', msg: `bulk ${b * 1000 + i}` })));
    await row(page, 'bulk 4999').waitFor();
    await expect.poll(() => eventCount(page)).toBe(start + 5000);
    expect(await rowCount(page)).toBeLessThanOrEqual(100);

    // Scrolled as a script does (a wheel scrolls smoothly, over frames): the same scroll event.
    await page.evaluate('document.querySelector(".tail-list").scrollTop -= 3000');
    await page.getByRole('button', { name: 'Jump to live' }).waitFor();
    await expect.poll(() => row(page, 'bulk 4999').count()).toBe(0);
    const held = await rowIds(page);
    await send([{ service: 'bulk', msg: 'after scrolling up' }]);
    // The count says it arrived; the rows in view did not move.
    await expect.poll(() => eventCount(page)).toBe(start + 5001);
    expect(await rowIds(page)).toEqual(held);
    expect(await rowCount(page)).toBeLessThanOrEqual(100);

    await page.getByRole('button', { name: 'Jump to live' }).click();
    await row(page, 'after scrolling up').waitFor();
    expect(await page.getByRole('button', { name: 'Jump to live' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
