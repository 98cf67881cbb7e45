// The Sources view (admin): a token made in the page is shown once, filled
// into working setups with this server's address; it ingests, the list
// counts what it sent, and revoking it stops it at once.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syslogListenersOf } from '../../src/ingest/syslog/listeners.js';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { launch, openPage, screenshot, signIn } from './browser.js';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  // A syslog listener on a free port: the setup lines must name that port.
  server = await startServer({ SLUICE_SYSLOG_TCP_PORT: '0', SLUICE_SYSLOG_HOST: '127.0.0.1' });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const snippet = (page: Page, title: string) => page.locator(`pre[data-snippet="${title}"]`).textContent().then((t) => t ?? '');
const row = (page: Page, name: string) => page.getByRole('table', { name: 'Tokens' }).locator(`tr[data-token="${name}"]`);
const POLL = { timeout: 30_000 };

describe('sources', () => {
  it('makes an ingest token shown once in ready setups; it ingests, is counted, and stops working when revoked', async () => {
    const { page, context, problems } = await openPage(browser, server.url);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await signIn(page, server.adminToken);
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByLabel('Name').fill('shop-web');
    await page.getByLabel('Scope').selectOption('ingest');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('heading', { name: /Token “shop-web” \(ingest\) created/ }).waitFor();

    // The token, read out of the curl example as a person would copy it.
    const curl = await snippet(page, 'curl');
    const token = /Bearer ([^']+)'/.exec(curl)?.[1] ?? '';
    expect(token).toMatch(/^sluice_/);
    expect(await snippet(page, 'Token')).toBe(token);
    const host = new URL(server.url).host;
    expect(await snippet(page, 'Heroku drain')).toBe(`heroku drains:add 'http://sluice:${token}@${host}/api/v1/drains/logplex?service=shop-web' -a shop-web`);
    expect(await snippet(page, 'sluice ship')).toContain(`export SLUICE_URL=${server.url}\nexport SLUICE_TOKEN=${token}\n`);
    // `sluice` is not on the PATH after `npm ci`; npx finds it in the Sluice directory.
    expect(await snippet(page, 'sluice ship')).toContain('node app.js 2>&1 | npx sluice ship --service shop-web');
    expect(await snippet(page, 'rsyslog (TCP, token in structured data)')).toContain(`[auth@32473 token=\\"${token}\\"]`);
    expect(await snippet(page, 'syslog-ng')).toContain(`set("${token}" value(".SDATA.auth@32473.token"))`);
    const tcp = syslogListenersOf(server.ctx)!.ports.tcp!;
    expect(await snippet(page, 'rsyslog (TCP, token in structured data)')).toContain(`port="${tcp}"`);
    expect(await snippet(page, 'syslog-ng')).toContain(`port(${tcp})`);
    const otlp = await snippet(page, 'OpenTelemetry (OTLP/HTTP)');
    expect(otlp).toContain(`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=${server.url}/v1/logs`);
    expect(otlp).toContain(`OTEL_EXPORTER_OTLP_LOGS_HEADERS="Authorization=Bearer ${token}"`);
    expect(await snippet(page, 'Loki push (Promtail)')).toBe(`clients:\n  - url: ${server.url}/loki/api/v1/push\n    bearer_token: ${token}`);

    // The service name typed once fills every example.
    await page.getByLabel('Service name in the examples').fill('shop');
    await expect.poll(() => snippet(page, 'sluice ship'), POLL).toMatch(/npx sluice ship --service shop$/);
    expect(await snippet(page, 'Heroku drain')).toContain('?service=shop\' -a shop');

    // Copy puts exactly the shown text on the clipboard.
    await page.getByRole('button', { name: 'Copy curl', exact: true }).click();
    await page.getByRole('button', { name: 'Copied curl', exact: true }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(await snippet(page, 'curl'));
    await screenshot(page, 'sources-created');

    // The curl example works as pasted into a shell.
    const ran = await promisify(execFile)('sh', ['-c', await snippet(page, 'curl')]);
    expect(JSON.parse(ran.stdout)).toMatchObject({ accepted: 1, rejected: 0 });
    // The token itself, as the shippers send it.
    const sent = await ingest(server.url, token, ndjson([{ msg: 'one', service: 'shop' }, { msg: 'two', service: 'shop' }]));
    expect(sent.status).toBe(200);
    // The Loki endpoint from its snippet.
    const loki = await fetch(`${server.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { ...auth(token), 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { service_name: 'shop' }, values: [[`${Date.now()}000000`, 'three']] }] }),
    });
    expect(loki.status).toBe(204);

    // The secret is not kept by the page: after a reload only the list remains.
    await page.reload();
    await expect.poll(() => row(page, 'shop-web').locator('td.events').textContent(), POLL).toBe('4');
    expect(await row(page, 'shop-web').textContent()).toContain('ingest');
    expect(await row(page, 'shop-web').textContent()).not.toContain('never');
    expect(await page.getByText(token).count()).toBe(0);
    await screenshot(page, 'sources');

    // Revoke asks first; Cancel keeps the token and gives focus back.
    await page.getByRole('button', { name: 'Revoke shop-web' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    const focused = (what: string) => () => page.evaluate(what);
    await expect.poll(focused('document.activeElement.getAttribute("aria-label")'), POLL).toBe('Revoke shop-web');
    expect((await ingest(server.url, token, ndjson([{ msg: 'still works' }]))).status).toBe(200);
    // The same by keyboard alone: Enter asks (focus on Cancel), Shift+Tab reaches the confirmation.
    await page.keyboard.press('Enter');
    await expect.poll(focused('document.activeElement.textContent'), POLL).toBe('Cancel');
    await page.keyboard.press('Shift+Tab');
    await expect.poll(focused('document.activeElement.textContent'), POLL).toBe('Yes, revoke');
    await page.keyboard.press('Enter');
    await expect.poll(() => row(page, 'shop-web').count(), POLL).toBe(0);
    expect((await ingest(server.url, token, ndjson([{ msg: 'refused' }]))).status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('lists tokens that never sent as "never", and shows why a name is refused', async () => {
    await makeToken(server, 'read', 'dashboards');
    const { page, context, problems } = await openPage(browser, `${server.url}/#/sources`);
    await signIn(page, server.adminToken);
    await expect.poll(() => row(page, 'dashboards').textContent(), POLL).toContain('never');
    expect(await row(page, 'dashboards').locator('td.events').textContent()).toBe('0');

    await page.getByLabel('Name').fill('dashboards');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/dashboards/);
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Name').fill('bad name!');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/must match pattern/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('warns before revoking the token the tab is signed in with, and shows why the server keeps the last admin token', async () => {
    const own = (await server.ctx.tokens.list()).find((t) => t.scope === 'admin')!.name;
    const { page, context, problems } = await openPage(browser, `${server.url}/#/sources`);
    await signIn(page, server.adminToken);
    await expect.poll(() => row(page, own).locator('th').textContent(), POLL).toBe(`${own} (you)`);
    await page.getByRole('button', { name: `Revoke ${own}` }).click();
    const question = page.getByRole('group', { name: /^Revoke/ });
    expect(await question.textContent()).toContain('This is the token you are signed in with');
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toBe(`${own} is the last admin token: create another admin token before revoking it`);
    // Kept, and the tab still signed in with it.
    expect(await row(page, own).count()).toBe(1);
    expect((await fetch(`${server.url}/api/v1/tokens`, { headers: auth(server.adminToken) })).status).toBe(200);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('is not offered to a read token', async () => {
    const { page, context } = await openPage(browser, `${server.url}/#/sources`);
    await signIn(page, await makeToken(server, 'read'));
    expect(await page.getByRole('link', { name: 'Sources' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create token' }).count()).toBe(0);
    await context.close();
  });
});
