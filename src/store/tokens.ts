// Token records in the store: a changeable record, so every change is a new
// row version in a ReplacingMergeTree read with FINAL.
import type { Store } from './store.js';
import { nextVersion } from './version.js';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenRecord {
  readonly name: string;
  readonly scope: Scope;
  readonly hash: string;
  readonly created_at: string;
}

export async function listTokenRecords(store: Store): Promise<TokenRecord[]> {
  const rs = await store.control.query({
    query: `SELECT name, scope, hash, formatDateTime(created_at, '%Y-%m-%dT%H:%i:%S.%fZ') AS created_at
            FROM tokens FINAL WHERE revoked = 0 ORDER BY name`,
    format: 'JSONEachRow',
  });
  return rs.json<TokenRecord>();
}

export async function insertTokenRecord(store: Store, name: string, scope: Scope, hash: string, createdAtMs: number): Promise<void> {
  await store.control.insert({
    table: 'tokens',
    values: [{ name, scope, hash, created_at: createdAtMs, revoked: 0, version: nextVersion() }],
    format: 'JSONEachRow',
  });
}

export async function revokeTokenRecord(store: Store, record: TokenRecord): Promise<void> {
  await store.control.insert({
    table: 'tokens',
    values: [{ name: record.name, scope: record.scope, hash: record.hash, created_at: Date.parse(record.created_at), revoked: 1, version: nextVersion() }],
    format: 'JSONEachRow',
  });
}
