// `sluice tail [query]`: the live tail in a terminal. One line per event —
// time, level, service, host, message — coloured only when stdout is a
// terminal; --json prints the events as NDJSON. Reconnects with backoff and
// says so on stderr; on reconnect it asks for what it missed since the last
// event it printed (or, before the first, since it first connected) and skips
// what it already printed.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { Config } from '../config.js';
import { SluiceError } from '../errors.js';
import type { EventJson } from '../model/event.js';
import { formatRfc3339, nowNs } from '../model/time.js';
import { parseTimeParam } from '../query/time-range.js';
import { MAX_BACKFILL } from '../tail/limits.js';
import { serverTarget } from './client.js';

// Errors that answer the subscription itself: retrying cannot help.
const FATAL = new Set(['SLUICE_ERR_QUERY_SYNTAX', 'SLUICE_ERR_INVALID_REGEX', 'SLUICE_ERR_INVALID_TIME_RANGE', 'SLUICE_ERR_VALIDATION']);

const COLORS: Record<string, string> = { trace: '\x1b[90m', debug: '\x1b[36m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[35m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

export function formatLine(e: EventJson, color: boolean): string {
  const time = e.time.slice(0, 23) + 'Z';
  const level = e.level.toUpperCase().padEnd(5);
  const where = e.host ? `${e.service}/${e.host}` : e.service;
  const message = e.message.replace(/\n/g, '\\n');
  if (!color) return `${time} ${level} ${where} ${message}`;
  return `${DIM}${time}${RESET} ${COLORS[e.level] ?? ''}${level}${RESET} ${DIM}${where}${RESET} ${message}`;
}

const USAGE = `usage: sluice tail [query] [--since 10m] [--limit N] [--json] [--url URL] [--token TOKEN]`;

export async function tailCommand(config: Config, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      limit: { type: 'string', default: '100' },
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const target = serverTarget(config, values);
  if (!target.token) {
    process.stderr.write('sluice tail: set SLUICE_TOKEN (or --token) to a token with scope read\n');
    return 2;
  }
  const limit = Number(values.limit);
  if (!/^\d+$/.test(values.limit) || limit > MAX_BACKFILL) {
    process.stderr.write(`sluice tail: --limit takes a count of events from 0 to ${MAX_BACKFILL}, not ${JSON.stringify(values.limit)}\n${USAGE}\n`);
    return 2;
  }
  if (values.since !== undefined) {
    try {
      parseTimeParam(values.since, nowNs());
    } catch (e) {
      process.stderr.write(`sluice tail: --since: ${e instanceof SluiceError ? e.message : String(e)}\n`);
      return 2;
    }
  }
  const q = positionals.join(' ');
  const color = process.stdout.isTTY === true && !values.json;
  const wsUrl = target.url.replace(/^http/, 'ws') + '/api/v1/tail';

  let lastTime: string | undefined;
  // Where a subscription looks back to until an event is printed: --since
  // at first, then (without it) the first connection, so a gap before the
  // first event is filled too. After that: the last event printed.
  let from = values.since;
  let fromLimit = limit;
  let connected = false;
  let printedAtLast = new Set<string>();
  let attempt = 0;
  let stopping = false;
  let current: WebSocket | undefined;

  const print = (e: EventJson) => {
    if (e.time === lastTime && printedAtLast.has(e.id)) return;
    if (e.time !== lastTime) {
      lastTime = e.time;
      printedAtLast = new Set();
    }
    printedAtLast.add(e.id);
    process.stdout.write((values.json ? JSON.stringify(e) : formatLine(e, color)) + '\n');
  };

  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      stopping = true;
      current?.close();
      resolve(code);
    };
    process.on('SIGINT', () => finish(0));
    process.on('SIGTERM', () => finish(0));
    process.stdout.on('error', () => finish(0)); // e.g. `| head` closed the pipe

    const connect = () => {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${target.token}` } });
      current = ws;
      let opened = false;
      let failure = '';
      ws.on('open', () => {
        opened = true;
        if (attempt > 0) process.stderr.write('sluice tail: reconnected\n');
        else if (!connected) process.stderr.write(`sluice tail: connected to ${target.url}; waiting for ${q ? 'events matching ' + q : 'events'} (Ctrl-C to stop)\n`);
        attempt = 0;
        connected = true;
        const since = lastTime ?? from;
        ws.send(JSON.stringify({ type: 'subscribe', q, ...(since ? { since } : {}), limit: lastTime === undefined ? fromLimit : MAX_BACKFILL }));
        if (from === undefined) {
          from = formatRfc3339(nowNs());
          fromLimit = MAX_BACKFILL;
        }
      });
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; events?: EventJson[]; count?: number; code?: string; message?: string; position?: number };
        if (m.type === 'events') for (const e of m.events ?? []) print(e);
        else if (m.type === 'dropped') process.stderr.write(`sluice tail: ${m.count} events dropped (the terminal fell behind)\n`);
        else if (m.type === 'error') {
          process.stderr.write(`sluice tail: ${m.code}: ${m.message}\n`);
          if (m.code !== undefined && FATAL.has(m.code)) finish(2);
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        process.stderr.write(`sluice tail: the server answered ${res.statusCode}; check SLUICE_TOKEN\n`);
        finish(1);
      });
      ws.on('error', (err: NodeJS.ErrnoException) => {
        // 'close' follows and schedules the retry.
        failure = err.code ?? err.message;
      });
      ws.on('close', () => {
        if (stopping) return;
        attempt++;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
        const what = opened ? 'connection lost' : `cannot connect to ${target.url}${failure ? ` (${failure})` : ''}`;
        process.stderr.write(`sluice tail: ${what}; ${opened ? 'reconnecting' : 'retrying'} in ${(delay / 1000).toFixed(1)}s\n`);
        setTimeout(() => {
          if (!stopping) connect();
        }, delay);
      });
    };
    connect();
  });
}
