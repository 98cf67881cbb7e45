// One client API for both engines: @clickhouse/client over the embedded
// engine (chdb/connection) or over HTTP to a ClickHouse server. Nothing above
// src/store knows which one it talks to.
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import type { Config } from '../config.js';
import { lockDataDir } from './lock.js';
import { EVENT_COLUMNS, EVENT_FORMAT } from './rows.js';

// chdb types its connection against @clickhouse/client-common while the
// client bundles its own copy of the same declarations; they agree in shape
// but TypeScript sees two types, so the one cast lives here.
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
function clientOver(conn: ChdbConnection): ClickHouseClient {
  return createClient({ connection: conn as unknown as ClientConnection });
}

/** A session: a client whose statements run one at a time on the embedded engine. */
export type Session = ClickHouseClient;

export interface Store {
  readonly embedded: boolean;
  readonly database: string;
  /** Session for event inserts: a slow search never delays acknowledgements. */
  readonly ingest: Session;
  /** Session for read queries from the API. */
  readonly query: Session;
  /** Session for small control records: tokens, alerts, migrations. */
  readonly control: Session;
  /**
   * Session for the alert engine's counting scans: a slow search, or the
   * sample lines of a burst of firing notices, on the query session never
   * delays a rule's evaluation (bench/alerts).
   */
  readonly alerts: Session;
  /**
   * Session for the rollup job's counting: every 2 s it scans the events
   * received since its watermark, and on the query session each of those
   * scans (~0.1 s on 10M events) stood in front of a reader (bench/loki).
   */
  readonly background: Session;
  /**
   * Inserts JSONEachRow rows into `table`. With a dedup token the insert is
   * recognised as a retry of an earlier one with the same token and stored
   * once. Settings go in the statement itself, never into the session.
   * `via` picks the session: event inserts go through `ingest`, small
   * background writes (the rollups) through `control`.
   */
  insertRows(table: string, body: Buffer, dedupToken?: string, via?: 'ingest' | 'control'): Promise<void>;
  /** Inserts events into `logs`, as eventRows (src/store/rows.ts) lays them out; otherwise as insertRows. */
  insertEvents(body: Buffer, dedupToken?: string, via?: 'ingest' | 'control'): Promise<void>;
  close(): Promise<void>;
}

/** How an insert's bytes are laid out: JSONEachRow objects, or eventRows' TabSeparated rows of `columns`. */
type Layout = { readonly format: 'JSONEachRow'; readonly columns?: undefined } | { readonly format: typeof EVENT_FORMAT; readonly columns: readonly string[] };
const OBJECTS: Layout = { format: 'JSONEachRow' };
const EVENTS: Layout = { format: EVENT_FORMAT, columns: EVENT_COLUMNS };

const TABLE = /^[a-z_][a-z0-9_]*$/;
const DEDUP_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

function insertSettings(dedupToken: string | undefined): Record<string, string | number> {
  // Sluice batches by itself; async inserts would acknowledge before the
  // data is in a part and would deduplicate differently.
  // Only a keyed insert can be a retry: an unkeyed batch mixes requests and
  // its events have fresh ids, so hashing it and logging the hash for
  // deduplication is work on every acknowledgement's path that can never
  // find a duplicate (and could only drop a true, identical batch).
  // Skip indexes (the message text index, the received-time minmax) are
  // built when parts merge, not on insert: a third of a small insert's time,
  // measured on the embedded engine. A part is merged within seconds of its
  // insert, and until then a search reads it whole; it is small.
  const s = { async_insert: 0, materialize_skip_indexes_on_insert: 0 };
  if (dedupToken === undefined) return { ...s, insert_deduplicate: 0 };
  return { ...s, insert_deduplicate: 1, insert_deduplication_token: dedupToken };
}

function checkInsert(table: string, dedupToken: string | undefined): void {
  if (!TABLE.test(table)) throw new Error(`invalid table name ${JSON.stringify(table)}`);
  if (dedupToken !== undefined && !DEDUP_TOKEN.test(dedupToken)) throw new Error('invalid dedup token');
}

class EmbeddedStore implements Store {
  readonly embedded = true;
  readonly ingest: Session;
  readonly query: Session;
  readonly control: Session;
  readonly alerts: Session;
  readonly background: Session;
  // One session per concurrent insert: a session runs one statement at a
  // time, so SLUICE_INSERT_CONCURRENCY > 1 needs as many sessions.
  readonly #inserters: ChdbConnection[];
  readonly #busy = new Set<ChdbConnection>();
  readonly #control: ChdbConnection;

  constructor(
    readonly database: string,
    conns: { ingest: ChdbConnection[]; query: ChdbConnection; control: ChdbConnection; alerts: ChdbConnection; background: ChdbConnection },
    private readonly unlock: () => void,
  ) {
    this.#inserters = conns.ingest;
    this.#control = conns.control;
    this.ingest = clientOver(conns.ingest[0]!);
    this.query = clientOver(conns.query);
    this.control = clientOver(conns.control);
    this.alerts = clientOver(conns.alerts);
    this.background = clientOver(conns.background);
  }

  insertRows(table: string, body: Buffer, dedupToken?: string, via: 'ingest' | 'control' = 'ingest'): Promise<void> {
    return this.#insert(table, body, dedupToken, via, OBJECTS);
  }

  insertEvents(body: Buffer, dedupToken?: string, via: 'ingest' | 'control' = 'ingest'): Promise<void> {
    return this.#insert('logs', body, dedupToken, via, EVENTS);
  }

  async #insert(table: string, body: Buffer, dedupToken: string | undefined, via: 'ingest' | 'control', layout: Layout): Promise<void> {
    checkInsert(table, dedupToken);
    // rawInsert hands the bytes to the engine's parallel parser zero-copy and
    // writes the settings into the INSERT's own SETTINGS clause, so nothing
    // leaks into later statements of the session (a leaked dedup token
    // silently drops later inserts).
    const insert = (conn: ChdbConnection) =>
      conn.chdb.rawInsert({ table, values: body, format: layout.format, settings: insertSettings(dedupToken), ...(layout.columns ? { columns: [...layout.columns] } : {}) });
    if (via === 'control') {
      await insert(this.#control);
      return;
    }
    const conn = this.#inserters.find((c) => !this.#busy.has(c)) ?? this.#inserters[0]!;
    this.#busy.add(conn);
    try {
      await insert(conn);
    } finally {
      this.#busy.delete(conn);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.ingest.close(), ...this.#inserters.slice(1).map((c) => c.close()), this.query.close(), this.control.close(), this.alerts.close(), this.background.close()]);
    this.unlock();
  }
}

class ServerStore implements Store {
  readonly embedded = false;
  readonly query: Session;
  readonly control: Session;
  readonly alerts: Session;
  readonly background: Session;

  constructor(
    readonly database: string,
    readonly ingest: Session,
    make: () => Session,
  ) {
    this.query = make();
    this.control = make();
    this.alerts = make();
    this.background = make();
  }

  insertRows(table: string, body: Buffer, dedupToken?: string, via: 'ingest' | 'control' = 'ingest'): Promise<void> {
    return this.#insert(table, body, dedupToken, via, OBJECTS);
  }

  insertEvents(body: Buffer, dedupToken?: string, via: 'ingest' | 'control' = 'ingest'): Promise<void> {
    return this.#insert('logs', body, dedupToken, via, EVENTS);
  }

  async #insert(table: string, body: Buffer, dedupToken: string | undefined, via: 'ingest' | 'control', layout: Layout): Promise<void> {
    checkInsert(table, dedupToken);
    // The body is rows already: send its bytes as they are, as the request
    // body of `INSERT … FORMAT <layout>`. Not client.insert: for a JSON
    // format it takes rows as objects and JSON-encodes each stream chunk, so
    // a Buffer became one row `{"type":"Buffer","data":[…]}` that the server
    // stored as defaults (time 1970, then dropped by TTL) while the insert
    // succeeded — every event lost behind a 2xx (#16).
    // Over HTTP, settings travel as this one request's URL parameters and
    // cannot leak into later statements.
    const { stream } = await this[via].exec({
      // The table and the columns are checked names (TABLE, EVENT_COLUMNS).
      query: `INSERT INTO ${table}${layout.columns ? ` (${layout.columns.join(', ')})` : ''} FORMAT ${layout.format}`,
      values: Readable.from([body], { objectMode: false }),
      clickhouse_settings: insertSettings(dedupToken),
    });
    // The answer of an insert is empty; read it to the end so the socket is
    // released.
    stream.resume();
    await finished(stream);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.ingest.close(), this.query.close(), this.control.close(), this.alerts.close(), this.background.close()]);
  }
}

async function prepareEmbeddedSession(conn: ChdbConnection, database: string, create: boolean): Promise<void> {
  const client = clientOver(conn);
  // Session-wide on purpose: every statement of this session uses UTC and
  // the Sluice database. The name is checked by the config schema.
  await client.command({ query: "SET session_timezone = 'UTC'" });
  if (create) await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: `USE ${database}` });
}

/**
 * Opens the store. `createDatabase` is for `sluice migrate`; serve expects
 * the database to exist.
 */
export async function openStore(config: Config, opts: { createDatabase?: boolean } = {}): Promise<Store> {
  const database = config.clickhouse.database;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error('invalid database name');
  if (config.clickhouse.url === undefined) {
    mkdirSync(config.dataDir, { recursive: true });
    const unlock = lockDataDir(config.dataDir);
    try {
      const open = () => createChdbConnection({ path: config.dataDir });
      const conns = { ingest: Array.from({ length: config.batch.concurrency }, open), query: open(), control: open(), alerts: open(), background: open() };
      // The first session creates the database; the others only USE it.
      await prepareEmbeddedSession(conns.control, database, true);
      for (const c of conns.ingest) await prepareEmbeddedSession(c, database, false);
      await prepareEmbeddedSession(conns.query, database, false);
      await prepareEmbeddedSession(conns.alerts, database, false);
      await prepareEmbeddedSession(conns.background, database, false);
      return new EmbeddedStore(database, conns, unlock);
    } catch (e) {
      unlock();
      throw e;
    }
  }
  const base = {
    url: config.clickhouse.url,
    username: config.clickhouse.user,
    password: config.clickhouse.password,
    clickhouse_settings: { session_timezone: 'UTC' },
  };
  if (opts.createDatabase) {
    const boot = createClient(base);
    try {
      await boot.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } finally {
      await boot.close();
    }
  }
  const make = () => createClient({ ...base, database });
  return new ServerStore(database, make(), make);
}
