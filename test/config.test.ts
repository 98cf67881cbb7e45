// Config comes from the environment only, is validated once and frozen; a
// wrong value stops the start with one line naming the variable.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, configTableMarkdown, loadConfig } from '../src/config.js';
import { runCli, tempDir } from './helpers/server.js';

describe('loadConfig', () => {
  it('applies defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, dataDir: './data', retentionDays: 30, roles: ['api', 'ingest', 'alerts'], logLevel: 'info' });
    expect(c.clickhouse).toEqual({ url: undefined, user: 'default', password: '', database: 'sluice' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('reads and coerces values', () => {
    const c = loadConfig({ PORT: '8080', SLUICE_ROLES: 'ingest,api', SLUICE_RETENTION_DAYS: '7', CLICKHOUSE_URL: 'http://ch:8123', SLUICE_MAX_BODY_BYTES: '2048' });
    expect(c.port).toBe(8080);
    expect(c.roles).toEqual(['ingest', 'api']);
    expect(c.retentionDays).toBe(7);
    expect(c.clickhouse.url).toBe('http://ch:8123');
    expect(c.limits.maxBodyBytes).toBe(2048);
  });

  it.each([
    ['PORT', '70000', /^PORT="70000" is invalid: expected a port number 0-65535$/],
    ['PORT', 'abc', /^PORT="abc" is invalid: expected a port number/],
    ['SLUICE_ROLES', 'api,web', /^SLUICE_ROLES="api,web" is invalid: expected a comma list of api, ingest, alerts$/],
    ['SLUICE_RETENTION_DAYS', '0', /^SLUICE_RETENTION_DAYS="0" is invalid: expected whole days 1-3650$/],
    ['CLICKHOUSE_URL', 'ch:8123', /^CLICKHOUSE_URL="ch:8123" is invalid: expected an http\(s\):\/\/ URL$/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL="loud" is invalid/],
    ['SLUICE_ADMIN_TOKEN', 'short', /^SLUICE_ADMIN_TOKEN="short" is invalid: expected a secret of 16-256 characters$/],
    ['CLICKHOUSE_DATABASE', 'a-b', /^CLICKHOUSE_DATABASE="a-b" is invalid/],
  ])('refuses %s=%s with a one-line message', (name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('is documented in README.md, row for row', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTableMarkdown());
  });

  it('stops `sluice serve` with the message and exit code 2', async () => {
    const r = await runCli(['serve'], { PORT: 'eighty', SLUICE_DATA_DIR: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('PORT="eighty" is invalid: expected a port number 0-65535');
  });

  it('refuses to serve a schema that is behind, saying to run migrate', async () => {
    const r = await runCli(['serve'], { PORT: '0', SLUICE_DATA_DIR: tempDir(), LOG_LEVEL: 'silent' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/schema is at version 0 .* run `sluice migrate` first/);
  });

  it('refuses to serve when the retention differs from the tables until migrate applies it', async () => {
    const dir = tempDir();
    expect((await runCli(['migrate'], { SLUICE_DATA_DIR: dir, SLUICE_RETENTION_DAYS: '30' })).code).toBe(0);
    const r = await runCli(['serve'], { PORT: '0', SLUICE_DATA_DIR: dir, SLUICE_RETENTION_DAYS: '7', LOG_LEVEL: 'silent' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SLUICE_RETENTION_DAYS=7 but the tables keep 30 days: run `sluice migrate`/);
    const m = await runCli(['migrate'], { SLUICE_DATA_DIR: dir, SLUICE_RETENTION_DAYS: '7' });
    expect(JSON.parse(m.stdout)).toMatchObject({ retention_days: 7, retention_changed: true });
  });
});
