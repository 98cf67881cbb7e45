// The Trends view: counts per group over a range, from events ingested at
// known minutes; the totals the page lists (the accessible numbers beside
// the chart) must equal what was sent, for each grouping, filter and step.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { drawnText, launch, openPage, recordCanvasText, screenshot, signIn, timeLabelProblems } from './browser.js';

let server: TestServer;
let browser: Browser;

// Whole minutes back from now, all well inside the default "last 1h".
const minute = Math.floor(Date.now() / 60_000) * 60_000;
const at = (minutesAgo: number, second = 0) => new Date(minute - minutesAgo * 60_000 + second * 1000).toISOString();
const EVENTS = [
  ...[0, 1, 2].map((i) => ({ time: at(40, i), level: 'error', service: 'checkout', region: 'eu', msg: `card declined ${i}` })),
  ...[0, 1].map((i) => ({ time: at(30, i), level: 'info', service: 'checkout', region: 'us', msg: `order placed ${i}` })),
  ...[0, 1, 2, 3].map((i) => ({ time: at(20, i), level: 'warn', service: 'search', region: 'eu', msg: `slow query ${i}` })),
  ...[0, 1, 2, 3, 4, 5].map((i) => ({ time: at(10, i), level: 'info', service: 'search', region: 'us', msg: `query ok ${i}` })),
  { time: at(5), level: 'error', service: 'search', region: 'us', msg: 'index missing' },
];

beforeAll(async () => {
  server = await startServer();
  browser = await launch();
  const res = await ingest(server.url, await makeToken(server, 'ingest'), ndjson(EVENTS));
  expect(res.body).toMatchObject({ accepted: EVENTS.length, rejected: 0 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The totals table beside the chart, as {group: count}. */
async function totals(page: Page, by: string): Promise<Record<string, number>> {
  const table = page.getByRole('table', { name: `Totals by ${by}` });
  if ((await table.count()) === 0) return {};
  const names = await table.locator('tbody th').allTextContents();
  const counts = await table.locator('tbody td.total').allTextContents();
  return Object.fromEntries(names.map((n, i) => [n.trim(), Number(counts[i]!.replace(/\D/g, ''))]));
}

const POLL = { timeout: 30_000 };

describe('trends', () => {
  it('lists the counts per level, per service and per typed field that were ingested, with the query and step in the hash', async () => {
    const { page, context, problems } = await openPage(browser, `${server.url}/#/trends`);
    await signIn(page, server.adminToken);
    await expect.poll(() => totals(page, 'level'), POLL).toEqual({ info: 8, warn: 4, error: 4 });
    expect(await page.getByRole('img', { name: /Events per 1m by level/ }).count()).toBe(1);
    await screenshot(page, 'trends');

    await page.getByLabel('by', { exact: true }).selectOption('service');
    await expect.poll(() => totals(page, 'service'), POLL).toEqual({ search: 11, checkout: 5 });
    expect(page.url()).toContain('by=service');

    // A query narrows the groups; it goes into the hash too.
    await page.getByLabel('Filter query').fill('level:>=warn');
    await page.getByLabel('Filter query').press('Enter');
    await expect.poll(() => totals(page, 'service'), POLL).toEqual({ search: 5, checkout: 3 });
    expect(decodeURIComponent(page.url())).toContain('q=level:>=warn');

    // A chosen step: the same totals in 5-minute steps.
    await page.getByLabel('step').selectOption('5m');
    await expect.poll(() => page.getByText(/steps of 5m/).count(), POLL).toBe(1);
    expect(await totals(page, 'service')).toEqual({ search: 5, checkout: 3 });
    expect(page.url()).toContain('step=5m');

    // Any attribute, typed.
    await page.getByLabel('Filter query').fill('');
    await page.getByLabel('Filter query').press('Enter');
    await page.getByLabel('by', { exact: true }).selectOption('field');
    await page.getByLabel('Field name').fill('region');
    await page.getByRole('button', { name: 'Group' }).click();
    await expect.poll(() => totals(page, 'region'), POLL).toEqual({ us: 9, eu: 7 });

    // Back to a named grouping: the field box goes. Also when that grouping is the one in force.
    await page.getByLabel('by', { exact: true }).selectOption('level');
    await expect.poll(() => totals(page, 'level'), POLL).toEqual({ info: 8, warn: 4, error: 4 });
    expect(await page.getByLabel('Field name').count()).toBe(0);
    await page.getByLabel('by', { exact: true }).selectOption('field');
    await page.getByLabel('Field name').waitFor();
    await page.getByLabel('by', { exact: true }).selectOption('level');
    await expect.poll(() => page.getByLabel('Field name').count(), POLL).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('opens a link with its state, and shows a query that does not parse under the box', async () => {
    const { page, context, problems } = await openPage(browser, `${server.url}/#/trends?by=service&q=${encodeURIComponent('service:checkout')}&step=1m`);
    await recordCanvasText(context);
    await page.reload();
    await signIn(page, server.adminToken);
    await expect.poll(() => totals(page, 'service'), POLL).toEqual({ checkout: 5 });
    expect(await page.getByLabel('Filter query').inputValue()).toBe('service:checkout');
    // At most 3 a minute: the counts axis ticks whole numbers only.
    await expect.poll(async () => (await drawnText(page)).filter((t) => t.align === 'right').length, POLL).toBeGreaterThan(1);
    expect((await drawnText(page)).filter((t) => t.align === 'right' && !/^\d+$/.test(t.text))).toEqual([]);

    await page.getByLabel('Filter query').fill('service:checkout (level:error');
    await page.getByLabel('Filter query').press('Enter');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), POLL).toMatch(/position/);
    expect(await page.getByLabel('Filter query').getAttribute('aria-invalid')).toBe('true');
    // No stale numbers beside the error.
    expect(await page.getByRole('table', { name: /Totals by/ }).count()).toBe(0);

    // A server refusal that is not about the query is shown too.
    await page.getByLabel('Filter query').fill('');
    await page.getByLabel('Filter query').press('Enter');
    await page.getByLabel('Time range').selectOption('7d');
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/more than 5000: choose a larger step/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a phone screen and follows dark mode', async () => {
    const phone = await openPage(browser, `${server.url}/#/trends?by=service`, { width: 390, height: 844 });
    await recordCanvasText(phone.context);
    await phone.page.reload();
    await signIn(phone.page, server.adminToken);
    await expect.poll(() => totals(phone.page, 'service'), POLL).toEqual({ search: 11, checkout: 5 });
    // Nothing wider than the screen: no sideways scrolling of the page.
    expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    // Time labels that do not run together or off the chart.
    await expect.poll(async () => (await drawnText(phone.page)).filter((t) => t.align === 'center').length, POLL).toBeGreaterThan(2);
    expect(timeLabelProblems(await drawnText(phone.page))).toEqual([]);
    await screenshot(phone.page, 'trends-mobile');
    await phone.context.close();

    const dark = await openPage(browser, `${server.url}/#/trends`, { width: 1280, height: 800 }, 'dark');
    await signIn(dark.page, server.adminToken);
    await expect.poll(() => totals(dark.page, 'level'), POLL).toEqual({ info: 8, warn: 4, error: 4 });
    expect(await dark.page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    await screenshot(dark.page, 'trends-dark');
    expect([...phone.problems, ...dark.problems]).toEqual([]);
    await dark.context.close();
  });
});
