// The Alerts view: a rule made by filling the form is the rule the API
// holds, its generated secret is shown once (and signs the notices), it
// fires on real events into a real receiver and the page shows the state
// and the delivery; a bad rule shows every problem beside its field in
// plain words; a notice that was not delivered says so on the list and the
// rule's page; a read token sees rules but cannot change them.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/alerts/notify/sign.js';
import { auth, ingest, makeToken, ndjson, startServer, type TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';
import { launch, openPage, screenshot, signIn } from './browser.js';

let server: TestServer;
let browser: Browser;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await new Receiver().start();
  server = await startServer({ SLUICE_WEBHOOK_ALLOW: '127.0.0.1' });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
});

interface ApiRule {
  id: string;
  name: string;
  state: string;
  [k: string]: unknown;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...auth(server.adminToken), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const rules = async () => (await call('GET', '/api/v1/alerts/rules')).body.rules as ApiRule[];
const POLL = { timeout: 60_000 };
const text = (page: Page, selector: string) => page.locator(selector).allTextContents().then((t) => t.join(' | '));

describe('alerts', () => {
  it('makes a rule from the form, shows its secret once, and shows it firing with the delivery in its history', async () => {
    const { page, context, problems } = await openPage(browser, `${server.url}/#/alerts`);
    await signIn(page, server.adminToken);
    await page.getByText('No alert rules yet.').waitFor();
    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('checkout errors');
    await page.getByLabel('Query', { exact: true }).fill('service:checkout level:>=error');
    await page.getByLabel('comparison').selectOption('>=');
    await page.getByLabel('threshold').fill('2');
    await page.getByLabel('Window', { exact: true }).fill('1m');
    await page.getByLabel('Group by', { exact: true }).fill('service');
    // A short interval so the engine evaluates it within seconds (as test/alerts does).
    await page.getByLabel('Check every', { exact: true }).fill('1s');
    await page.getByLabel('Repeat', { exact: true }).fill('30m');
    await page.getByLabel('URL 1', { exact: true }).fill(receiver.url);
    await page.getByLabel('Format', { exact: true }).selectOption('sluice');
    await page.getByRole('button', { name: 'Create rule' }).click();

    await page.getByRole('heading', { name: 'Signing secrets' }).waitFor();
    const secret = (await page.locator(`pre[data-snippet="Secret for ${receiver.url}"]`).textContent()) ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(16);
    const made = (await rules()).find((r) => r.name === 'checkout errors')!;
    expect(made).toMatchObject({
      query: 'service:checkout level:>=error',
      window: '1m',
      condition: { op: '>=', threshold: 2 },
      group_by: ['service'],
      interval: '1s',
      for: '0s',
      repeat: '30m',
      targets: [{ url: receiver.url, format: 'sluice' }],
      state: 'ok',
    });
    expect(page.url()).toContain(`#/alerts/${made.id}`);

    const token = await makeToken(server, 'ingest');
    await ingest(server.url, token, ndjson([1, 2, 3].map((i) => ({ level: 'error', service: 'checkout', msg: `card declined ${i}` }))));
    const firing = (r: { json: Record<string, unknown> }) => (r.json.rule as { id?: string } | undefined)?.id === made.id && r.json.status === 'firing';
    await receiver.until((rs) => rs.some(firing), 'the firing notice');
    // The secret the page showed is the one that signs the notices.
    const notice = receiver.received.find(firing)!;
    expect(verify(secret, String(notice.headers['x-sluice-timestamp']), notice.body, String(notice.headers['x-sluice-signature']))).toBe(true);

    // The rule's page (it polls) shows the group firing and the delivery with its status code.
    await expect.poll(() => text(page, 'table[aria-label="Groups"] tbody tr'), POLL).toMatch(/service=checkout.*firing.*3/);
    await expect.poll(() => text(page, 'table[aria-label="Notification history"] tbody tr'), POLL).toMatch(/firing.*service=checkout.*200.*yes/);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByRole('heading', { name: 'Signing secrets' }).count()).toBe(0);

    await page.getByRole('link', { name: /All rules/ }).click();
    const row = page.locator('tr[data-rule="checkout errors"]');
    await expect.poll(() => row.locator('td.rule-state').textContent(), POLL).toMatch(/^firing.*firing service=checkout/);
    expect(await row.textContent()).toContain('count >= 2 in 1m per service');
    await screenshot(page, 'alerts');
    expect(problems).toEqual([]);
    await context.close();
  }, 150_000);

  it('shows every problem of a bad rule beside its field in plain words, and edits, tests and deletes a rule', async () => {
    const { page, context, problems } = await openPage(browser, `${server.url}/#/alerts/new`);
    await signIn(page, server.adminToken);
    // No name, a window too short, a negative threshold, no URL: all four at once.
    await page.getByLabel('Window', { exact: true }).fill('10s');
    await page.getByLabel('threshold').fill('-1');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const errorOf = (field: string) => page.locator(`#rule-${field}-error`);
    await expect.poll(() => errorOf('name').textContent(), POLL).toBe('Name is required.');
    expect(await errorOf('window').textContent()).toBe('Window must be from 1m to 24h.');
    expect(await errorOf('threshold').textContent()).toBe('Threshold must be 0 or more.');
    expect(await errorOf('t0-url').textContent()).toBe('URL 1 is required.');
    expect(await page.getByRole('alert').count()).toBe(4);
    const window = page.getByLabel('Window', { exact: true });
    for (const field of [page.getByLabel('Name', { exact: true }), window, page.getByLabel('threshold'), page.getByLabel('URL 1', { exact: true })]) {
      expect(await field.getAttribute('aria-invalid')).toBe('true');
    }
    expect(await window.getAttribute('aria-describedby')).toBe('rule-window-error');
    expect(await page.evaluate('document.activeElement.id')).toBe('rule-name');

    await page.getByLabel('Name', { exact: true }).fill('bad rule');
    await page.getByLabel('threshold').fill('0');
    await page.getByLabel('URL 1', { exact: true }).fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByRole('alert').allTextContents(), POLL).toEqual(['Window must be from 1m to 24h.', 'URL 1 must start with http:// or https://.']);
    expect(await page.evaluate('document.activeElement.id')).toBe('rule-window');
    await window.fill('1m');
    await page.getByLabel('URL 1', { exact: true }).fill(receiver.url);

    // A refusal the form did not foresee (the body is changed on its way here) is the server's, in plain words, beside its field.
    await page.route('**/api/v1/alerts/rules', (route) => route.continue({ postData: JSON.stringify({ ...(route.request().postDataJSON() as object), name: '' }) }), { times: 1 });
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByRole('alert').allTextContents(), POLL).toEqual(['Name is required.']);
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    // A query that does not parse: the server's message with a caret at its position.
    await page.getByLabel('Query', { exact: true }).fill('service:checkout (level:error');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/position \d+/);
    expect(await page.getByLabel('Query', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('alert').locator('pre').textContent()).toMatch(/\^$/);

    expect((await rules()).some((r) => r.name === 'bad rule')).toBe(false);

    // Edit: the form holds the rule; a new target gets a secret shown once, the old keeps its own.
    const made = await call('POST', '/api/v1/alerts/rules', {
      name: 'edit me', query: 'service:nothing', window: '5m', condition: { op: '>', threshold: 100 }, targets: [{ url: receiver.url }],
    });
    const id = String(made.body.id);
    await page.goto(`${server.url}/#/alerts/${id}/edit`);
    await expect.poll(() => page.getByLabel('Name', { exact: true }).inputValue(), POLL).toBe('edit me');
    expect(await page.getByLabel('Window', { exact: true }).inputValue()).toBe('5m');
    await page.getByLabel('threshold').fill('7');
    await page.getByRole('button', { name: 'Add target' }).click();
    await page.getByLabel('URL 2', { exact: true }).fill(`${receiver.url}?second`);
    await page.getByLabel('Format', { exact: true }).nth(1).selectOption('slack');
    await screenshot(page, 'alerts-edit');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('heading', { name: 'Signing secrets' }).waitFor();
    expect(await page.locator('pre[data-snippet^="Secret for"]').count()).toBe(1);
    expect(await page.locator(`pre[data-snippet="Secret for ${receiver.url}?second"]`).count()).toBe(1);
    const saved = await call('GET', `/api/v1/alerts/rules/${id}`);
    expect(saved.body).toMatchObject({ condition: { op: '>', threshold: 7 }, targets: [{ url: receiver.url, format: 'sluice' }, { url: `${receiver.url}?second`, format: 'slack' }] });

    // A test notice goes to both targets and lands in the history.
    await page.getByRole('button', { name: 'Send test notice' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('test notice delivered to 2 of 2 targets');
    await expect.poll(() => text(page, 'table[aria-label="Notification history"] tbody tr'), POLL).toMatch(/test.*200.*yes/);

    // Delete from the list, after a confirmation.
    await page.getByRole('link', { name: /All rules/ }).click();
    await page.getByRole('button', { name: 'Delete edit me' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => page.locator('tr[data-rule="edit me"]').count(), POLL).toBe(0);
    expect((await call('GET', `/api/v1/alerts/rules/${id}`)).status).toBe(404);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says on the list and the rule page that the last notice was not delivered; a phone shows long target URLs readably', async () => {
    // A webhook that refuses every notice (a 4xx is not retried).
    const failing = await new Receiver().start();
    failing.failures = Array.from({ length: 100 }, () => 400);
    try {
      const url = `${failing.url}?channel=payments-oncall-escalations&token=0123456789abcdef0123456789abcdef`;
      await call('POST', '/api/v1/alerts/rules', {
        name: 'undeliverable', query: 'service:undeliverable', window: '1m', condition: { op: '>=', threshold: 1 }, interval: '1s', targets: [{ url }],
      });
      await ingest(server.url, await makeToken(server, 'ingest'), ndjson([{ service: 'undeliverable', level: 'error', msg: 'nobody hears this' }]));
      await failing.until((rs) => rs.length > 0, 'the firing notice');

      const { page, context, problems } = await openPage(browser, `${server.url}/#/alerts`, { width: 390, height: 844 });
      await signIn(page, server.adminToken);
      const row = page.locator('tr[data-rule="undeliverable"]');
      await expect.poll(() => row.locator('td.rule-state').textContent(), POLL).toMatch(/^firing.*last firing notice not delivered: HTTP 400$/);

      await page.getByRole('link', { name: 'undeliverable' }).click();
      await expect.poll(() => page.locator('.last-notice').textContent(), POLL).toMatch(/^Last notice \(firing, .*\): not delivered: HTTP 400$/);
      // The group was notified, and the page does not make that sound like it arrived.
      const group = await text(page, 'table[aria-label="Groups"] tbody tr');
      expect(group).toMatch(/firing.*\(firing\) · not delivered: HTTP 400/);
      expect(group).not.toContain('· delivered');

      // The URL wraps in a cell wide enough to read, inside the table's own scroll.
      const target = page.locator('table[aria-label="Notification history"] tbody tr').first().locator('code');
      await expect.poll(() => target.textContent(), POLL).toBe(url);
      expect((await target.boundingBox())!.width).toBeGreaterThan(150);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await failing.close();
    }
  }, 150_000);

  it('shows when each rule last ran and why it failed, and snoozes and unsnoozes a rule', async () => {
    // A regex RE2 refuses: saved, but every evaluation fails once there is an event to read.
    await call('POST', '/api/v1/alerts/rules', {
      name: 'bad pattern', query: 'service:e2e-bad /(?<=a)b/', window: '1m', condition: { op: '>', threshold: 1e9 }, interval: '1s', targets: [{ url: receiver.url }],
    });
    await ingest(server.url, await makeToken(server, 'ingest'), ndjson([{ service: 'e2e-bad', msg: 'ab' }]));
    const made = await call('POST', '/api/v1/alerts/rules', {
      name: 'snooze me', query: 'service:e2e-snooze', window: '1m', condition: { op: '>', threshold: 1e9 }, interval: '1s', targets: [{ url: receiver.url }],
    });
    const snoozed = async () => (await rules()).find((r) => r.id === made.body.id)!.snoozed;

    const { page, context, problems } = await openPage(browser, `${server.url}/#/alerts`);
    await signIn(page, server.adminToken);
    const bad = page.locator('tr[data-rule="bad pattern"]');
    await expect.poll(() => bad.locator('td.rule-state').textContent(), POLL).toMatch(/evaluation failed: the regular expression is not valid RE2/);
    const row = page.locator('tr[data-rule="snooze me"]');
    await expect.poll(() => row.locator('.last-evaluated').textContent(), POLL).toMatch(/^last /);

    await page.getByRole('button', { name: 'Snooze snooze me for an hour' }).click();
    await expect.poll(() => row.locator('td.rule-state').textContent(), POLL).toMatch(/snoozed until/);
    expect(await snoozed()).toBe(true);
    await page.getByRole('button', { name: 'Unsnooze snooze me' }).click();
    await expect.poll(() => row.locator('td.rule-state').textContent(), POLL).not.toMatch(/snoozed/);
    expect(await snoozed()).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  }, 150_000);

  it('makes a rule that pushes to Alertmanager with labels and severity, names a bad label beside its field, and keeps them through an edit', async () => {
    const { page, context, problems } = await openPage(browser, `${server.url}/#/alerts/new`);
    await signIn(page, server.adminToken);
    await page.getByLabel('Name', { exact: true }).fill('to alertmanager');
    await page.getByLabel('Query', { exact: true }).fill('service:e2e-am');
    await page.getByLabel('threshold').fill('5');
    await page.getByLabel('Window', { exact: true }).fill('1m');
    await page.getByLabel('Push to Alertmanager').check();
    await page.getByRole('button', { name: 'Remove target 1' }).click();
    await page.getByLabel('Alertmanager URL', { exact: true }).fill('http://am.example:9093');
    await page.getByLabel('Severity', { exact: true }).selectOption('critical');
    await page.getByLabel('Labels', { exact: true }).fill('team=payments, bad-name=x');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.locator('#rule-labels-error').textContent(), POLL).toMatch(/"bad-name=x" is not name=value/);
    expect(await page.locator('#rule-labels').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Labels', { exact: true }).fill('team=payments, tier=1');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const want = { alertmanager: { url: 'http://am.example:9093' }, severity: 'critical', labels: { team: 'payments', tier: '1' }, targets: [] };
    await expect.poll(async () => (await rules()).find((r) => r.name === 'to alertmanager'), POLL).toMatchObject(want);
    const made = (await rules()).find((r) => r.name === 'to alertmanager')!;

    // The page goes to the new rule once the server answers; only then to its edit form.
    await page.waitForURL((u) => u.hash === `#/alerts/${made.id}`, POLL);
    await page.goto(`${server.url}/#/alerts/${made.id}/edit`);
    await expect.poll(() => page.getByLabel('Labels', { exact: true }).inputValue(), POLL).toBe('team=payments, tier=1');
    expect(await page.getByLabel('Push to Alertmanager').isChecked()).toBe(true);
    await page.getByLabel('Name', { exact: true }).fill('to alertmanager, edited');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await expect.poll(async () => (await rules()).find((r) => r.id === made.id)?.name, POLL).toBe('to alertmanager, edited');
    expect((await rules()).find((r) => r.id === made.id)).toMatchObject(want);
    // The rule's page says where it goes and with which labels.
    await page.goto(`${server.url}/#/alerts/${made.id}`);
    await expect.poll(() => page.locator('dl').textContent(), POLL).toMatch(/Alertmanager http:\/\/am\.example:9093.*severitycritical · team=payments, tier=1/);
    expect(problems).toEqual([]);
    await context.close();
  }, 150_000);

  it('shows a read token the rules but no way to change them', async () => {
    const made = await call('POST', '/api/v1/alerts/rules', {
      name: 'read me', query: '', window: '1m', condition: { op: '>', threshold: 1e9 }, targets: [{ url: `${receiver.url}?key=s3cret` }],
    });
    const { page, context, problems } = await openPage(browser, `${server.url}/#/alerts`);
    await signIn(page, await makeToken(server, 'read'));
    await page.locator('tr[data-rule="read me"]').waitFor();
    expect(await page.getByRole('button', { name: 'New rule' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Edit|Delete)/ }).count()).toBe(0);

    await page.getByRole('link', { name: 'read me' }).click();
    await page.getByRole('heading', { name: /read me/ }).waitFor();
    expect(await page.getByRole('button', { name: /Edit|Delete|Send test notice/ }).count()).toBe(0);
    // Target URLs are cut to their origin for non-admins.
    expect(await page.locator('dl').textContent()).not.toContain('s3cret');
    expect(page.url()).toContain(String(made.body.id));

    await page.goto(`${server.url}/#/alerts/new`);
    await page.getByText('Changing alert rules needs an admin token.').waitFor();
    expect(await page.getByRole('button', { name: 'Create rule' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
