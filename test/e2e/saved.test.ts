// Saved searches in a real browser: "Save" in the search view stores the
// query and range (seen through the API), the Saved view lists searches and
// opens one as a search, and deletes one.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { launch, openPage, screenshot, signIn } from './browser.js';

let server: TestServer;
let browser: Browser;
let reader: string;

interface Saved {
  id: string;
  name: string;
  q: string;
  from: string | null;
  to: string | null;
  owner: string;
}

async function listSaved(): Promise<Saved[]> {
  const res = await fetch(`${server.url}/api/v1/searches`, { headers: auth(server.adminToken) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { searches: Saved[] }).searches;
}

beforeAll(async () => {
  server = await startServer();
  browser = await launch();
  reader = await makeToken(server, 'read', 'reader');
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const events = [
    { time: at(3), service: 'api', level: 'error', msg: 'payment failed' },
    { time: at(70), service: 'api', level: 'warn', msg: 'slow upstream' },
    { time: at(9), service: 'api', level: 'info', msg: 'request done' },
    { time: at(12), service: 'worker', level: 'error', msg: 'job crashed' },
  ];
  const res = await ingest(server.url, await makeToken(server, 'ingest'), ndjson(events));
  expect(res.body).toMatchObject({ accepted: events.length });
  // One made through the API, with an absolute range.
  const made = await fetch(`${server.url}/api/v1/searches`, {
    method: 'POST',
    headers: { ...auth(server.adminToken), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Worker errors', q: 'service:worker level:>=error', from: at(30), to: at(0) }),
  });
  expect(made.status).toBe(201);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('saved searches', () => {
  it('saves the current search from the search view, lists it, opens it and deletes it', async () => {
    const { page, context, problems } = await openPage(browser, `${server.url}/#/search`);
    await signIn(page, reader);
    const box = page.getByRole('searchbox', { name: 'Query' });
    await box.fill('service:api level:>=warn');
    await box.press('Enter');
    await page.getByLabel('Time range').selectOption('6h');
    const results = page.getByRole('list', { name: 'Events', exact: true }).locator(':scope > li');
    await expect.poll(() => results.count(), { timeout: 30_000 }).toBe(2);

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // The name starts as the query; a person types a better one.
    expect(await page.getByLabel('Name').inputValue()).toBe('service:api level:>=warn');
    await page.getByLabel('Name').fill('API warnings');
    await page.getByRole('button', { name: 'Save search' }).click();
    await page.getByText('Saved as “API warnings”.').waitFor({ timeout: 30_000 });
    const saved = (await listSaved()).find((s) => s.name === 'API warnings');
    expect(saved).toMatchObject({ q: 'service:api level:>=warn', from: '6h', to: null, owner: 'reader' });

    await page.getByRole('link', { name: 'Saved', exact: true }).click();
    const table = page.getByRole('table', { name: 'Saved searches' });
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 30_000 }).toBe(2);
    const row = table.locator('tbody tr').filter({ hasText: 'API warnings' });
    expect(await row.textContent()).toContain('last 6h');
    expect(await table.locator('tbody tr').filter({ hasText: 'Worker errors' }).textContent()).toContain('service:worker level:>=error');
    await screenshot(page, 'saved');

    // Opening it is a search with its query and range in the hash.
    await row.getByRole('link', { name: 'API warnings' }).click();
    await expect.poll(() => new URL(page.url()).hash, { timeout: 30_000 }).toMatch(/^#\/search\?/);
    const params = new URLSearchParams(new URL(page.url()).hash.replace(/^#\/search\?/, ''));
    expect(params.get('q')).toBe('service:api level:>=warn');
    expect(params.get('from')).toBe('6h');
    expect(await box.inputValue()).toBe('service:api level:>=warn');
    await expect.poll(() => results.count(), { timeout: 30_000 }).toBe(2);

    // The one with an absolute range opens with it.
    await page.getByRole('link', { name: 'Saved', exact: true }).click();
    await table.getByRole('link', { name: 'Worker errors' }).click();
    await expect.poll(() => results.count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByLabel('Time range').inputValue()).toBe('custom');

    // Delete asks once more, then the search is gone here and in the API.
    await page.getByRole('link', { name: 'Saved', exact: true }).click();
    await table.getByRole('button', { name: 'Delete API warnings' }).click();
    await table.getByRole('button', { name: 'Delete “API warnings”' }).click();
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 30_000 }).toBe(1);
    expect((await listSaved()).map((s) => s.name)).toEqual(['Worker errors']);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says when there are none, and refuses to save a query that does not parse', async () => {
    for (const s of await listSaved()) await fetch(`${server.url}/api/v1/searches/${s.id}`, { method: 'DELETE', headers: auth(server.adminToken) });
    const { page, context, problems } = await openPage(browser, `${server.url}/#/saved`);
    await signIn(page, reader);
    await page.getByText('No saved searches yet.').waitFor({ timeout: 30_000 });

    await page.goto(`${server.url}/#/search?q=${encodeURIComponent('level:>=nope (')}`);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByLabel('Name').fill('broken');
    await page.getByRole('button', { name: 'Save search' }).click();
    await expect.poll(() => page.locator('.save-search [role=alert]').textContent(), { timeout: 30_000 }).toBeTruthy();
    expect(await listSaved()).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
