// Small key/value facts about the schema (e.g. the retention its TTLs use).
import type { Store } from './store.js';
import { nextVersion } from './version.js';

export async function readMeta(store: Store, key: string): Promise<string | undefined> {
  const rs = await store.control.query({
    query: 'SELECT value FROM sluice_meta FINAL WHERE key = {key:String}',
    query_params: { key },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ value: string }>())[0]?.value;
}

export async function writeMeta(store: Store, key: string, value: string): Promise<void> {
  await store.control.insert({ table: 'sluice_meta', values: [{ key, value, version: nextVersion() }], format: 'JSONEachRow' });
}
