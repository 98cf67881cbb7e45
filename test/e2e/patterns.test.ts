// The Patterns view and the search view's Patterns tab in a real browser:
// three shapes of line ingested at known times list as their templates with
// the counts sent, each variable marked and the counts per step drawn; a
// pattern opens the search for exactly its events (ANDed with the query,
// over the same range); a query that does not parse, a refused range, no
// events and events left unmined say so. Screenshots at desktop, mobile
// and dark.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { patience, testTimes } from '../helpers/times.js';
import { launch, openPage, screenshot, signIn } from './browser.js';

let server: TestServer;
let browser: Browser;
let reader: string;

// An hour or two back from the clock: inside "the last 6h", which the links use.
const at = testTimes();
const MIN = 60_000;
const RANGE = '6h';
const POLL = { timeout: patience(30_000) };

interface Sent {
  time: string;
  service: string;
  host: string;
  level: string;
  message: string;
}
// Six user names: a word becomes a variable once four have stood in its place.
const NAMES = ['admin', 'oracle', 'guest', 'ubuntu', 'test', 'pi'];
const INVALID: Sent[] = Array.from({ length: 12 }, (_, i) => ({
  time: at.iso(i * 2 * MIN + 1000),
  service: 'sshd',
  host: 'bastion',
  // Four warnings with four names: under level:warn the template is the same.
  level: i < 4 ? 'warn' : 'info',
  message: `Invalid user ${NAMES[i % NAMES.length]} from 10.0.${i}.${i + 7}`,
}));
const ACCEPTED: Sent[] = Array.from({ length: 5 }, (_, i) => ({
  time: at.iso((i * 5 + 3) * MIN),
  service: 'sshd',
  host: 'bastion',
  level: 'info',
  message: `Accepted password for root from 192.168.1.${20 + i} port ${50_000 + i * 7} ssh2`,
}));
const TIMEOUTS: Sent[] = Array.from({ length: 4 }, (_, i) => ({
  time: at.iso((i * 4 + 10) * MIN),
  service: 'db',
  host: 'db-1',
  level: 'error',
  message: `Timeout waiting for lock on table orders after ${(i + 1) * 250} ms`,
}));
// `ssh2` has a digit, so it is a variable like the address and port.
const T_INVALID = 'Invalid user <*> from <*>';
const T_ACCEPTED = 'Accepted password for root from <*> port <*> <*>';
const T_TIMEOUT = 'Timeout waiting for lock on table orders after <*> ms';

beforeAll(async () => {
  server = await startServer();
  browser = await launch();
  reader = await makeToken(server, 'read');
  const sent = [...INVALID, ...ACCEPTED, ...TIMEOUTS];
  const res = await ingest(server.url, await makeToken(server, 'ingest'), ndjson(sent));
  expect(res.body).toMatchObject({ accepted: sent.length, rejected: 0 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(hash: string, viewport?: { width: number; height: number }, scheme: 'light' | 'dark' = 'light') {
  const p = await openPage(browser, `${server.url}/${hash}`, viewport, scheme);
  await signIn(p.page, reader);
  return p;
}

const patternList = (page: Page) => page.getByRole('list', { name: 'Patterns', exact: true });
const patternRows = (page: Page) => patternList(page).locator(':scope > li');
const patternRow = (page: Page, template: string) => patternRows(page).filter({ has: page.getByRole('link', { name: template, exact: true }) });
const patternStatus = (page: Page) => page.locator('.pattern-results > p[role=status]');

/** The listed patterns as [template, count as read]. */
async function listed(page: Page): Promise<Array<[string, string]>> {
  if ((await patternList(page).count()) === 0) return [];
  const templates = await patternRows(page).locator('a.pat-template').allTextContents();
  const counts = await patternRows(page).locator('.pat-count').allTextContents();
  return templates.map((t, i) => [t, counts[i]!]);
}

async function levels(row: Locator): Promise<Record<string, string>> {
  const items = await row.getByRole('list', { name: 'Levels' }).getByRole('listitem').evaluateAll((els) => els.map((el) => [el.getAttribute('data-level'), el.textContent]));
  return Object.fromEntries(items) as Record<string, string>;
}

// The search view's events, as in search.test.ts.
const eventRows = (page: Page) => page.getByRole('list', { name: 'Events', exact: true }).locator(':scope > li');
const searchStatus = (page: Page) => page.locator('.search-results > p[role=status]');
const hashParams = (page: Page) => new URLSearchParams(new URL(page.url()).hash.replace(/^#\/\w+\??/, ''));

/** Waits for the search to answer, then returns its events' messages, sorted. */
async function searchedMessages(page: Page, n: number): Promise<string[]> {
  await expect.poll(() => searchStatus(page).textContent(), POLL).not.toMatch(/^Searching/);
  await expect.poll(() => eventRows(page).count(), POLL).toBe(n);
  return (await eventRows(page).locator('.msg').allTextContents()).sort();
}

/** A computed style of the element (in the page: the tests' types have no DOM). */
function css(el: Locator, property: string): Promise<string> {
  type Styled = { getComputedStyle(e: unknown): { getPropertyValue(p: string): string } };
  return el.evaluate((e, p) => (globalThis as unknown as Styled).getComputedStyle(e).getPropertyValue(p), property);
}

const messages = (events: readonly Sent[]) => events.map((e) => e.message).sort();

/** The pattern id the API gives a template over the test's range, for what the links must search. */
async function patternId(template: string, q = ''): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/patterns?${new URLSearchParams({ q, from: RANGE })}`, { headers: auth(reader) });
  const body = (await res.json()) as { patterns: Array<{ id: string; template: string }> };
  return body.patterns.find((p) => p.template === template)!.id;
}

describe('patterns view', () => {
  it('lists the ingested shapes loudest first with their counts, marked variables, levels and bars', async () => {
    const { page, context, problems } = await open(`#/patterns?from=${RANGE}`);
    await expect.poll(() => listed(page), POLL).toEqual([
      [T_INVALID, '12 events'],
      [T_ACCEPTED, '5 events'],
      [T_TIMEOUT, '4 events'],
    ]);
    expect(await patternStatus(page).textContent()).toBe(`21 events in the last ${RANGE}, 3 patterns; bars per 10m.`);
    expect(await page.getByRole('link', { name: 'Patterns', exact: true }).getAttribute('aria-current')).toBe('page');

    // Each <*> is an element of its own, styled apart from the words around it.
    const invalid = patternRow(page, T_INVALID);
    for (const [template, n] of [[T_INVALID, 2], [T_ACCEPTED, 3], [T_TIMEOUT, 1]] as const) {
      const marks = patternRow(page, template).locator('a.pat-template mark');
      expect(await marks.allTextContents()).toEqual(Array<string>(n).fill('<*>'));
    }
    const template = invalid.locator('a.pat-template');
    expect(await css(template.locator('mark').first(), 'color')).not.toBe(await css(template, 'color'));
    expect(await css(template.locator('mark').first(), 'background-color')).not.toBe('rgba(0, 0, 0, 0)');

    // Levels, most severe first, in their colours.
    expect(await levels(invalid)).toEqual({ warn: 'warn 4', info: 'info 8' });
    expect(await levels(patternRow(page, T_TIMEOUT))).toEqual({ error: 'error 4' });
    expect(await invalid.locator('[data-level=warn]').getAttribute('class')).toBe('lvl lvl-warn');
    expect(await invalid.getByText(/^e\.g\. Invalid user \w+ from [\d.]+$/).count()).toBe(1);

    // The bars: one per step with events, as many as the API counted, the loudest step full height.
    const res = await fetch(`${server.url}/api/v1/patterns?${new URLSearchParams({ from: RANGE })}`, { headers: auth(reader) });
    const api = (await res.json()) as { patterns: Array<{ template: string; counts: number[] }> };
    const counts = api.patterns.find((p) => p.template === T_INVALID)!.counts;
    const spark = invalid.getByRole('img', { name: /^12 events, at most \d+ in a step of 10m$/ });
    expect(await spark.getAttribute('aria-label')).toBe(`12 events, at most ${Math.max(...counts)} in a step of 10m`);
    const d = (await spark.locator('path.spark-bars').getAttribute('d')) ?? '';
    expect(d.match(/M/g)?.length).toBe(counts.filter((c) => c > 0).length);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    expect(d).toContain('V0.00');
    const box = (await spark.boundingBox())!;
    expect(box.width).toBeGreaterThan(60);
    expect(box.height).toBeGreaterThan(10);
    // First and last seen are the first and last events sent.
    const times = await invalid.locator('.pat-seen time').evaluateAll((els) => els.map((el) => Date.parse(el.getAttribute('datetime')!)));
    expect(times).toEqual([Date.parse(INVALID[0]!.time), Date.parse(INVALID.at(-1)!.time)]);
    await screenshot(page, 'patterns');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('opens a pattern as a search for exactly its events, ANDed with the query, over the same range', async () => {
    const { page, context, problems } = await open(`#/patterns?from=${RANGE}`);
    await page.getByRole('link', { name: T_INVALID, exact: true }).click();
    const id = await patternId(T_INVALID);
    await expect.poll(() => new URL(page.url()).hash.split('?')[0], POLL).toBe('#/search');
    expect(hashParams(page).get('q')).toBe(`pattern:${id}`);
    expect(hashParams(page).get('from')).toBe(RANGE);
    expect(await searchedMessages(page, INVALID.length)).toEqual(messages(INVALID));
    expect(await searchStatus(page).textContent()).toBe(`12 events in the last ${RANGE}, newest first.`);
    expect(await page.getByRole('searchbox', { name: 'Query' }).inputValue()).toBe(`pattern:${id}`);

    // With a query: the pattern's count under it, and the search keeps it.
    await page.goBack();
    const box = page.getByRole('searchbox', { name: 'Filter query' });
    await box.fill('level:warn');
    await box.press('Enter');
    await expect.poll(() => listed(page), POLL).toEqual([[T_INVALID, '4 events']]);
    expect(hashParams(page).get('q')).toBe('level:warn');
    // Anywhere on the row opens it, not only the template: a click on the
    // count lands on the link laid over the row.
    const count = (await patternRow(page, T_INVALID).locator('.pat-count').boundingBox())!;
    await page.mouse.click(count.x + count.width / 2, count.y + count.height / 2);
    await expect.poll(() => hashParams(page).get('q'), POLL).toBe(`level:warn pattern:${id}`);
    expect(await searchedMessages(page, 4)).toEqual(messages(INVALID.filter((e) => e.level === 'warn')));
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says when nothing matches, shows a query that does not parse under the box, and a refusal', async () => {
    const { page, context, problems } = await open(`#/patterns?from=${RANGE}&q=nothingmatcheshere`);
    await expect.poll(() => patternStatus(page).textContent(), POLL).toBe(`No events in the last ${RANGE} match nothingmatcheshere.`);
    expect(await patternList(page).count()).toBe(0);

    const box = page.getByRole('searchbox', { name: 'Filter query' });
    await box.fill('service:sshd (level:info');
    await box.press('Enter');
    const alert = page.locator('#q-error');
    await expect.poll(() => alert.textContent(), POLL).toMatch(/position/);
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await patternStatus(page).textContent()).toBe('The query does not parse.');
    expect(await patternList(page).count()).toBe(0);

    // A range the server refuses is an error that is not the query's.
    await page.goto(`${server.url}/#/patterns?from=1h&to=2h`);
    await expect.poll(async () => (await page.locator('.pattern-results [role=alert]').count()) && page.locator('.pattern-results [role=alert]').textContent(), POLL).toBe('from is after to');
    expect(await patternStatus(page).textContent()).toBe('The patterns could not be listed.');
    expect(await patternList(page).count()).toBe(0);

    // Events past the shapes one listing mines (20,000: too many to ingest
    // here) are counted apart: the server's real answer, with seven of them.
    await page.route(
      (url) => url.pathname === '/api/v1/patterns',
      async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as { total: number };
        await route.fulfill({ response: res, json: { ...body, total: body.total + 7, unmined: 7 } });
      },
    );
    await page.goto(`${server.url}/#/patterns?from=${RANGE}`);
    await expect.poll(() => page.locator('.pat-unmined').textContent(), POLL).toMatch(/^7 events have no pattern: /);
    expect(await patternStatus(page).textContent()).toBe(`28 events in the last ${RANGE}, 3 patterns; bars per 10m.`);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('the search view\'s Patterns tab', () => {
  it('lists the patterns of the search, and one opens the search for its events', async () => {
    const { page, context, problems } = await open(`#/search?q=service:sshd&from=${RANGE}`);
    await searchedMessages(page, INVALID.length + ACCEPTED.length);
    const events = page.getByRole('tab', { name: 'Events' });
    const patterns = page.getByRole('tab', { name: 'Patterns' });
    expect(await events.getAttribute('aria-selected')).toBe('true');
    await patterns.click();
    // The click re-renders after it returns: wait for the state, do not read it at once.
    await expect.poll(() => patterns.getAttribute('aria-selected'), POLL).toBe('true');
    await expect.poll(() => hashParams(page).get('tab'), POLL).toBe('patterns');
    // The search's patterns only: not the database's.
    await expect.poll(() => listed(page), POLL).toEqual([
      [T_INVALID, '12 events'],
      [T_ACCEPTED, '5 events'],
    ]);
    expect(await page.getByRole('tabpanel').getAttribute('aria-labelledby')).toBe(await patterns.getAttribute('id'));
    await screenshot(page, 'search-patterns');

    await page.getByRole('link', { name: T_ACCEPTED, exact: true }).click();
    const id = await patternId(T_ACCEPTED, 'service:sshd');
    await expect.poll(() => hashParams(page).get('q'), POLL).toBe(`service:sshd pattern:${id}`);
    expect(hashParams(page).get('tab')).toBeNull();
    await expect.poll(() => events.getAttribute('aria-selected'), POLL).toBe('true');
    expect(await searchedMessages(page, ACCEPTED.length)).toEqual(messages(ACCEPTED));

    // The arrow keys move between the tabs; a new query keeps the tab.
    await events.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => hashParams(page).get('tab'), POLL).toBe('patterns');
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.textContent'), POLL).toBe('Patterns');
    await expect.poll(() => listed(page), POLL).toEqual([[T_ACCEPTED, '5 events']]);
    const box = page.getByRole('searchbox', { name: 'Query' });
    await box.fill('service:db');
    await box.press('Enter');
    await expect.poll(() => listed(page), POLL).toEqual([[T_TIMEOUT, '4 events']]);
    expect(hashParams(page).get('tab')).toBe('patterns');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('patterns on a phone and in dark mode', () => {
  it('fits a phone screen and follows dark mode', async () => {
    const phone = await open(`#/patterns?from=${RANGE}`, { width: 390, height: 844 });
    await expect.poll(() => listed(phone.page), POLL).toHaveLength(3);
    // Nothing wider than the screen: no sideways scrolling of the page.
    expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const row = patternRow(phone.page, T_ACCEPTED);
    for (const part of [row.locator('a.pat-template'), row.getByRole('img'), row.getByRole('list', { name: 'Levels' }), row.locator('.pat-seen')]) {
      const b = (await part.boundingBox())!;
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(390);
      expect(b.width).toBeGreaterThan(0);
    }
    await screenshot(phone.page, 'patterns-mobile');

    await phone.page.goto(`${server.url}/#/search?q=service:sshd&from=${RANGE}&tab=patterns`);
    await expect.poll(() => listed(phone.page), POLL).toHaveLength(2);
    expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(phone.problems).toEqual([]);
    await phone.context.close();

    const dark = await open(`#/patterns?from=${RANGE}`, undefined, 'dark');
    await expect.poll(() => listed(dark.page), POLL).toHaveLength(3);
    expect(await dark.page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    // Variables in the dark accent, not the browser's black on yellow.
    const mark = patternRow(dark.page, T_INVALID).locator('mark').first();
    expect(await css(mark, 'color')).toBe('rgb(68, 147, 248)');
    // The error pattern's bars in the dark error colour.
    expect(await css(patternRow(dark.page, T_TIMEOUT).getByRole('img'), 'color')).toBe('rgb(248, 81, 73)');
    await screenshot(dark.page, 'patterns-dark');
    expect(dark.problems).toEqual([]);
    await dark.context.close();
  });
});
