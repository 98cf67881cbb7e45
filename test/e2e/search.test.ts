// The search view in a real browser: words, field filters and levels narrow
// the results; a bad query points at its error; the histogram's counts are
// the ingested ones and a drag on it zooms the range into the hash; field
// values add filters (an empty one too); "Show context" lists the
// neighbours; the copied link opens the event view; "Older events" pages;
// the status says how many match in all. Screenshots at desktop, mobile
// and dark, where the chart's labels must not run together.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { drawnText, launch, openPage, recordCanvasText, screenshot, signIn, timeLabelProblems } from './browser.js';

let server: TestServer;
let browser: Browser;
let reader: string;

interface Fields {
  service: string;
  host: string;
  level: string;
  msg: string;
  [attr: string]: string | number;
}
type Sent = Fields & { time: string };
const sent: Sent[] = [];
const MIN = 60_000;

beforeAll(async () => {
  server = await startServer();
  browser = await launch();
  reader = await makeToken(server, 'read');
  // Everything 2–56 minutes ago: inside "the last 1h" for the whole file.
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * MIN).toISOString();
  const known: Array<[number, Fields]> = [
    [5, { service: 'api', host: 'web-1', level: 'error', msg: 'payment failed for order', order: 42, region: 'eu' }],
    [8, { service: 'api', host: 'web-1', level: 'info', msg: 'listening on port 8080' }],
    [12, { service: 'api', host: 'web-2', level: 'warn', msg: 'slow response from upstream', duration_ms: 900 }],
    [18, { service: 'worker', host: 'w-1', level: 'error', msg: 'job crashed with timeout', job: 'resize' }],
    [22, { service: 'worker', host: 'w-1', level: 'fatal', msg: 'out of memory' }],
    [30, { service: 'web', host: 'web-3', level: 'info', msg: 'rendered homepage', status: 200, region: 'us' }],
    [35, { service: 'web', host: 'web-3', level: 'debug', msg: 'cache miss for key' }],
    [40, { service: 'api', host: 'web-1', level: 'info', msg: 'zebracorn unique marker' }],
    [50, { service: 'cron', host: '', level: 'info', msg: 'nightly job from no host' }],
  ];
  for (const [ago, e] of known) sent.push({ time: at(ago), ...e });
  // Five lines of one service and host, for "Show context".
  for (let i = 1; i <= 5; i++) sent.push({ time: at(46 - i), service: 'ctx', host: 'c1', level: 'info', msg: `step ${i}` });
  // Filler for paging: more than one page of 50.
  for (let i = 0; i < 55; i++) sent.push({ time: at(2 + i * 0.99), service: 'batch', host: 'b1', level: 'debug', msg: `tick ${i}` });
  const ingestToken = await makeToken(server, 'ingest');
  const res = await ingest(server.url, ingestToken, ndjson(sent));
  expect(res.body).toMatchObject({ accepted: sent.length, rejected: 0 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(hash = '#/search', viewport?: { width: number; height: number }, scheme: 'light' | 'dark' = 'light') {
  const p = await openPage(browser, `${server.url}/${hash}`, viewport, scheme);
  await recordCanvasText(p.context);
  await p.page.reload();
  await signIn(p.page, reader);
  return p;
}

// Direct children only: an open event holds lists of its own (its context).
const rows = (page: Page) => page.getByRole('list', { name: 'Events', exact: true }).locator(':scope > li');
const status = (page: Page) => page.locator('.search-results > p[role=status]');
const hashParams = (page: Page) => new URLSearchParams(new URL(page.url()).hash.replace(/^#\/search\??/, ''));

async function query(page: Page, q: string): Promise<void> {
  const box = page.getByRole('searchbox', { name: 'Query' });
  await box.fill(q);
  await box.press('Enter');
}

/** Waits until the search has answered with exactly n rows. */
async function expectRows(page: Page, n: number): Promise<void> {
  await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).not.toMatch(/^Searching/);
  await expect.poll(() => rows(page).count(), { timeout: 30_000 }).toBe(n);
}

describe('search', () => {
  it('finds an event by a word; field:value and level:>=error narrow; says when nothing matches', async () => {
    const { page, context, problems } = await open();
    // A page of 50, and how many match in all (from the histogram, which counts whole minutes: "about").
    await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe(`Newest 50 of about ${sent.length} events in the last 1h; older ones follow.`);

    await query(page, 'zebracorn');
    await expectRows(page, 1);
    expect(await rows(page).first().textContent()).toContain('zebracorn unique marker');
    expect(await status(page).textContent()).toBe('1 event in the last 1h, newest first.');
    expect(hashParams(page).get('q')).toBe('zebracorn');

    await query(page, 'service:worker');
    await expectRows(page, 2);
    await query(page, 'region:eu');
    await expectRows(page, 1);
    expect(await rows(page).first().textContent()).toContain('payment failed');
    await query(page, 'level:>=error');
    await expectRows(page, sent.filter((e) => e.level === 'error' || e.level === 'fatal').length);

    await query(page, 'nothingmatcheshere');
    await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe('No events in the last 1h match nothingmatcheshere.');
    expect(await rows(page).count()).toBe(0);
    expect(page.url()).not.toContain(reader);

    // A search is a link: opening it runs it, with its range.
    await page.goto(`${server.url}/#/search?q=zebracorn&from=6h`);
    await expectRows(page, 1);
    expect(await page.getByLabel('Time range').inputValue()).toBe('6h');
    await query(page, 'service:api');
    await expectRows(page, sent.filter((e) => e.service === 'api').length);
    await screenshot(page, 'search');
    // `/` from anywhere focuses the query box.
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('q');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a query that does not parse inline, with a caret at its position; Esc clears it', async () => {
    const { page, context, problems } = await open();
    const bad = 'service:api (timeout';
    const res = await fetch(`${server.url}/api/v1/search?${new URLSearchParams({ q: bad })}`, { headers: { authorization: `Bearer ${reader}` } });
    const err = (await res.json()) as { code: string; position: number; message: string };
    expect(err.code).toBe('SLUICE_ERR_QUERY_SYNTAX');

    await query(page, bad);
    const alert = page.locator('#q-error');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain(err.message);
    const caret = (await alert.locator('.caret').textContent())!.split('\n');
    expect(caret[0]).toBe(bad);
    expect(caret[1]!.indexOf('^')).toBe(err.position);
    expect(await page.getByRole('searchbox', { name: 'Query' }).getAttribute('aria-invalid')).toBe('true');

    await page.getByRole('searchbox', { name: 'Query' }).press('Escape');
    await alert.waitFor({ state: 'detached', timeout: 30_000 });
    expect(await page.getByRole('searchbox', { name: 'Query' }).inputValue()).toBe('');
    await expectRows(page, 50);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('draws the histogram from the ingested counts by level, and a drag on it zooms to an absolute range', async () => {
    const { page, context, problems } = await open();
    const legend = page.getByRole('list', { name: 'Events by level' });
    await legend.waitFor({ timeout: 30_000 });
    const counts = async () =>
      Object.fromEntries(
        await legend.locator('li[data-level]').evaluateAll((els) => els.map((el) => [el.getAttribute('data-level'), Number(el.getAttribute('data-count'))])),
      ) as Record<string, number>;
    const expected: Record<string, number> = {};
    for (const e of sent) expected[e.level] = (expected[e.level] ?? 0) + 1;
    await expect.poll(counts, { timeout: 30_000 }).toEqual(expected);
    expect(Number(await page.locator('figure.histogram').getAttribute('data-total'))).toBe(sent.length);
    // The per-step table holds the same events.
    const perStep = await page
      .getByRole('table', { name: /^Events per/ })
      .locator('tbody td:nth-child(2)')
      .allTextContents();
    expect(perStep.map(Number).reduce((a, b) => a + b, 0)).toBe(sent.length);

    // Drag across the right half of the plot: the last ~30 minutes.
    const over = page.locator('.histogram .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.98, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => hashParams(page).get('to') ?? '', { timeout: 30_000 }).toMatch(/^\d{4}-\d\d-\d\dT/);
    const from = Date.parse(hashParams(page).get('from')!);
    const to = Date.parse(hashParams(page).get('to')!);
    expect(to - from).toBeGreaterThan(20 * MIN);
    expect(to - from).toBeLessThan(40 * MIN);
    const inside = sent.filter((e) => Date.parse(e.time) >= from && Date.parse(e.time) <= to).length;
    expect(inside).toBeGreaterThan(0);
    expect(inside).toBeLessThan(50);
    await expectRows(page, inside);
    await expect.poll(() => page.locator('figure.histogram').getAttribute('data-total'), { timeout: 30_000 }).not.toBe(String(sent.length));
    expect(await page.getByLabel('Time range').inputValue()).toBe('custom');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('adds field:value to the query from the fields sidebar and re-runs it', async () => {
    const { page, context, problems } = await open();
    const fields = page.getByRole('complementary', { name: 'Fields' });
    await fields.getByRole('button', { name: /^service\b/ }).click();
    await fields.getByRole('list', { name: 'Top values of service' }).getByRole('button', { name: /^worker\b/ }).click();
    await expect.poll(() => hashParams(page).get('q'), { timeout: 30_000 }).toBe('service:worker');
    await expectRows(page, 2);
    // An attribute's values, ANDed with what is there.
    await fields.getByRole('button', { name: /^job\b/ }).click();
    await fields.getByRole('list', { name: 'Top values of job' }).getByRole('button', { name: /^resize\b/ }).click();
    await expect.poll(() => hashParams(page).get('q'), { timeout: 30_000 }).toBe('service:worker job:resize');
    await expectRows(page, 1);
    expect(await page.getByRole('searchbox', { name: 'Query' }).inputValue()).toBe('service:worker job:resize');

    // An empty value is shown as such, and filters for the empty value.
    await query(page, '');
    await expectRows(page, 50);
    await fields.getByRole('button', { name: /^host\b/ }).click();
    const empty = fields.getByRole('list', { name: 'Top values of host' }).getByRole('button', { name: /^\(empty\)/ });
    expect(await empty.textContent()).toBe('(empty) 1');
    await empty.click();
    await expect.poll(() => hashParams(page).get('q'), { timeout: 30_000 }).toBe('host:""');
    await expectRows(page, 1);
    expect(await rows(page).first().textContent()).toContain('nightly job from no host');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('keeps "custom…" chosen while the from/to inputs are open', async () => {
    const { page, context, problems } = await open();
    const range = page.getByLabel('Time range');
    await range.selectOption('custom');
    await page.getByLabel('from', { exact: true }).waitFor();
    expect(await range.inputValue()).toBe('custom');
    expect(await page.getByLabel('to', { exact: true }).isVisible()).toBe(true);
    // Back to a preset: the inputs go.
    await range.selectOption('6h');
    await expect.poll(() => page.getByLabel('from', { exact: true }).count()).toBe(0);
    expect(hashParams(page).get('from')).toBe('6h');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows an event in full with its context, and its copied link opens the event view', async () => {
    const { page, context, problems } = await open();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await query(page, 'service:ctx');
    await expectRows(page, 5);
    const row = rows(page).filter({ hasText: 'step 3' });
    await row.getByRole('button', { expanded: false }).click();
    const fields = row.locator('dl.fields');
    await fields.waitFor();
    expect(await fields.textContent()).toContain('c1');
    await row.getByRole('button', { name: 'Show context' }).click();
    const ctx = row.getByRole('list', { name: 'Context' });
    await expect.poll(() => ctx.getByRole('listitem').allTextContents(), { timeout: 30_000 }).toHaveLength(5);
    const lines = await ctx.getByRole('listitem').allTextContents();
    expect(lines.map((l) => /step \d/.exec(l)?.[0])).toEqual(['step 1', 'step 2', 'step 3', 'step 4', 'step 5']);
    expect(await ctx.locator('[aria-current="true"]').textContent()).toContain('step 3');
    await screenshot(page, 'search-context');

    await row.getByRole('button', { name: 'Copy link' }).click();
    await row.getByText('Link copied').waitFor();
    const link = String(await page.evaluate('navigator.clipboard.readText()'));
    const id = /#\/event\/(.+)$/.exec(link)?.[1];
    expect(link.startsWith(`${server.url}/#/event/`)).toBe(true);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await row.getByRole('link', { name: 'Link to this event' }).getAttribute('href')).toBe(`#/event/${id}`);

    // sessionStorage is per tab: open the link in this one.
    await page.goto(link);
    await page.getByRole('heading', { name: 'Event' }).waitFor();
    const view = page.locator('.event-view');
    await expect.poll(() => view.getByRole('list', { name: 'Context' }).getByRole('listitem').count(), { timeout: 30_000 }).toBe(5);
    expect(await view.locator('[aria-current="true"]').textContent()).toContain('step 3');
    expect(await view.locator('dl.fields').textContent()).toContain(id);
    // An unknown id says so.
    await page.goto(`${server.url}/#/event/0190aaaa-0000-7000-8000-000000000000`);
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 }).toContain('No event has id');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('pages to older events, newest first, with no repeats', async () => {
    const { page, context, problems } = await open();
    await expectRows(page, 50);
    await page.getByRole('button', { name: 'Older events' }).click();
    await expectRows(page, sent.length);
    await page.getByText('No older events in the last 1h.').waitFor();
    expect(await page.getByRole('button', { name: 'Older events' }).count()).toBe(0);
    const times = await page.locator('.results time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''));
    expect(times).toEqual([...times].sort().reverse());
    expect(new Set(times).size).toBe(sent.length);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a phone (fields behind a button) and follows dark mode', async () => {
    const phone = await open('#/search', { width: 390, height: 844 });
    await expectRows(phone.page, 50);
    const service = phone.page.getByRole('complementary', { name: 'Fields' }).getByRole('button', { name: /^service\b/ });
    expect(await service.isVisible()).toBe(false);
    await phone.page.getByRole('button', { name: 'Fields', exact: true }).click();
    await service.waitFor();
    await phone.page.getByRole('button', { name: 'Fields', exact: true }).click();
    expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    // The service stays in view on a row.
    expect(await rows(phone.page).first().locator('.svc').isVisible()).toBe(true);
    // The histogram's labels: times that do not run together, whole counts.
    await expect.poll(async () => (await drawnText(phone.page)).filter((t) => t.align === 'center').length, { timeout: 30_000 }).toBeGreaterThan(2);
    const drawn = await drawnText(phone.page);
    expect(timeLabelProblems(drawn)).toEqual([]);
    expect(drawn.filter((t) => t.align === 'right').map((t) => t.text)).toEqual(expect.arrayContaining(['0']));
    expect(drawn.filter((t) => t.align === 'right' && !/^\d+$/.test(t.text))).toEqual([]);
    await screenshot(phone.page, 'search-mobile');
    expect(phone.problems).toEqual([]);
    await phone.context.close();

    const dark = await open('#/search', undefined, 'dark');
    await expectRows(dark.page, 50);
    await dark.page.getByRole('list', { name: 'Events by level' }).waitFor();
    await rows(dark.page).first().getByRole('button').first().click();
    expect(await dark.page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    await screenshot(dark.page, 'search-dark');
    expect(dark.problems).toEqual([]);
    await dark.context.close();
  });
});
