// A test-only stand-in for a ClickHouse server's HTTP interface, running
// each statement on chDB (the same engine, in a child process with its own
// data directory: chDB binds one data directory per process).
//
// It speaks what @clickhouse/client uses: POST/GET / with `query` in the URL
// and/or the body (the statement is the `query` parameter, a newline, then
// the body, as on a server), `database`, `query_id`, `param_*` query
// parameters, settings as URL parameters (applied to that one statement and
// never after it), `default_format`, gzip/deflate/br request bodies,
// response compression with `enable_http_compression=1`, /ping, basic auth
// (or X-ClickHouse-User/Key) checked when the stand-in was given a password,
// and errors as a server sends them: `Code: N. DB::Exception: … (TYPE)` with
// the server's HTTP status for that error and X-ClickHouse-Exception-Code.
// Multi-statement requests are refused as a server refuses them (chDB alone
// would run them), and a SET or USE lasts one request, as without a session.
//
// Not implemented (the stand-in answers 501 NOT_IMPLEMENTED, never guesses):
// HTTP sessions (`session_id`), multipart requests (external data tables,
// multipart query parameters), ClickHouse's native compression
// (`compress`/`decompress`), binary insert formats (the body goes to the
// engine as text). Results are computed whole, then sent: no progress
// headers, no exception in the middle of a stream. X-ClickHouse-Summary
// counters are the engine's, approximate for inserts. Query parameters of
// composite types (Array, Map, Tuple) must not contain backslash escapes.
//
// Run it as a program (prints one JSON line {"url": …} when listening; exits
// when its stdin closes, so it never outlives the process that started it):
//   node test/helpers/clickhouse-standin.mjs [--data-dir D] [--user U --password P]
//        [--setting name=value …]   server-profile defaults, e.g. output_format_json_quote_64bit_integers=1
// or start it from a test with startStandin().
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------
// Launcher, for tests and scripts.

/**
 * Starts the stand-in in a child process and resolves once it listens.
 * @param {{ user?: string, password?: string, dataDir?: string, settings?: Record<string, string | number>, env?: Record<string, string> }} [opts]
 */
export async function startStandin(opts = {}) {
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(process.env.SLUICE_TEST_TMP ?? tmpdir(), 'ch-standin-'));
  const args = [SELF, '--data-dir', dataDir];
  if (opts.user !== undefined) args.push('--user', opts.user);
  if (opts.password !== undefined) args.push('--password', opts.password);
  for (const [k, v] of Object.entries(opts.settings ?? {})) args.push('--setting', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...opts.env } });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line).url);
      } catch {
        reject(new Error(`clickhouse stand-in said ${line}`));
      }
    });
    void exited.then((e) => reject(new Error(`clickhouse stand-in exited before listening (${e.code ?? e.signal})`)));
  });
  return {
    url,
    user: opts.user ?? 'default',
    password: opts.password ?? '',
    pid: child.pid,
    async close() {
      // Closing stdin is the stop signal; it also works when this process dies.
      child.stdin.end();
      await exited;
      if (own) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Statement scanning: just enough of the server's lexer to find where a
// statement ends, where an INSERT's data starts and the output FORMAT.

const WORD = /[A-Za-z_0-9$]/;

function skipQuoted(text, i, q) {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === q) {
      if (text[j + 1] === q) j++;
      else return j + 1;
    }
  }
  return text.length;
}

function skipSpaceAndComments(text, i) {
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text.startsWith('--', i) || text.startsWith('#!', i) || text.startsWith('# ', i)) {
      const e = text.indexOf('\n', i);
      i = e < 0 ? text.length : e + 1;
    } else if (text.startsWith('/*', i)) {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? text.length : e + 2;
    } else return i;
  }
}

/**
 * @returns {{ kind: string, dataStart?: number, format?: string, multi?: number }}
 *   kind: the first keyword, upper case; dataStart: for INSERT … FORMAT x,
 *   where x ends (the data follows); format: a SELECT's FORMAT clause;
 *   multi: the position of a second statement.
 */
export function scanStatement(text) {
  let i = skipSpaceAndComments(text, 0);
  let depth = 0;
  let kind = '';
  let format;
  let afterFormat = false;
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(text, i, c);
      afterFormat = false;
    } else if (WORD.test(c)) {
      let j = i;
      while (j < text.length && WORD.test(text[j])) j++;
      const word = text.slice(i, j);
      const upper = word.toUpperCase();
      if (kind === '') kind = upper;
      if (afterFormat) {
        if (kind === 'INSERT') return { kind, dataStart: j, format: word };
        format = word;
        afterFormat = false;
      } else if (depth === 0 && upper === 'FORMAT') afterFormat = true;
      i = j;
    } else if (c === ';') {
      const next = skipSpaceAndComments(text, i + 1);
      if (next < text.length) return { kind, format, multi: next };
      return { kind, format };
    } else {
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      afterFormat = false;
      i++;
    }
    i = skipSpaceAndComments(text, i);
  }
  return { kind, format };
}

// ---------------------------------------------------------------------------
// Query parameters arrive as a server receives them: in the escaped (TSV)
// text form. chDB's binder takes JS values and escapes strings itself, so a
// scalar's value is unescaped first; composite values (['a','b']) are text
// the engine parses as is, which passes through only without backslashes.

function placeholderTypes(sql) {
  const types = new Map();
  for (const m of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+)\}/g)) {
    if (!types.has(m[1])) types.set(m[1], m[2].trim());
  }
  return types;
}

const UNESCAPE = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', 0: '\0', a: '\x07', v: '\v', e: '\x1b' };

function unescapeTsv(s) {
  return s.replace(/\\(x[0-9A-Fa-f]{2}|[\s\S])/g, (_, e) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (UNESCAPE[e] ?? e)));
}

function bindValue(name, raw, type) {
  let base = type ?? 'String';
  for (let m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(base); m; m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(base)) base = m[1].trim();
  if (raw === '\\N') return null;
  if (!/^(Array|Map|Tuple|Nested|JSON|Object|Variant|Dynamic)\b/.test(base)) return unescapeTsv(raw);
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x1f]/.test(raw)) throw new StandinError(48, 'NOT_IMPLEMENTED', `the stand-in cannot bind parameter ${name} of type ${type}: its value has escapes`);
  return raw;
}

// ---------------------------------------------------------------------------
// Errors as the server sends them.

class StandinError extends Error {
  constructor(code, type, message) {
    super(`Code: ${code}. DB::Exception: ${message}. (${type})`);
    this.chCode = code;
  }
}

// src/Server/HTTP/exceptionCodeToHTTPStatus.cpp, by error name.
const STATUS_BY_TYPE = new Map([
  [401, ['REQUIRED_PASSWORD']],
  [403, ['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE', 'ACCESS_DENIED']],
  [400, ['BAD_ARGUMENTS', 'CANNOT_COMPILE_REGEXP', 'CANNOT_PARSE_TEXT', 'CANNOT_PARSE_ESCAPE_SEQUENCE', 'CANNOT_PARSE_QUOTED_STRING', 'CANNOT_PARSE_DATE',
    'CANNOT_PARSE_DATETIME', 'CANNOT_PARSE_NUMBER', 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING', 'CANNOT_PARSE_IPV4', 'CANNOT_PARSE_IPV6',
    'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'CANNOT_PARSE_UUID', 'DUPLICATE_COLUMN', 'ILLEGAL_COLUMN', 'UNKNOWN_ELEMENT_IN_AST',
    'UNKNOWN_TYPE_OF_AST_NODE', 'THERE_IS_NO_COLUMN', 'TOO_DEEP_AST', 'TOO_BIG_AST', 'UNEXPECTED_AST_STRUCTURE', 'SYNTAX_ERROR',
    'INCORRECT_DATA', 'TYPE_MISMATCH', 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE']],
  [404, ['NOT_FOUND', 'UNKNOWN_TABLE', 'UNKNOWN_FUNCTION', 'UNKNOWN_IDENTIFIER', 'UNKNOWN_TYPE', 'UNKNOWN_STORAGE', 'UNKNOWN_DATABASE', 'UNKNOWN_SETTING',
    'UNKNOWN_DIRECTION_OF_SORTING', 'UNKNOWN_AGGREGATE_FUNCTION', 'UNKNOWN_FORMAT', 'UNKNOWN_DATABASE_ENGINE', 'UNKNOWN_TYPE_OF_QUERY', 'UNKNOWN_ROLE']],
  [413, ['QUERY_IS_TOO_LARGE']],
  [501, ['NOT_IMPLEMENTED']],
  [503, ['SOCKET_TIMEOUT', 'CANNOT_OPEN_FILE', 'CANNOT_SCHEDULE_TASK']],
  [411, ['HTTP_LENGTH_REQUIRED']],
  [408, ['TIMEOUT_EXCEEDED']],
  [415, ['UNSUPPORTED_MEDIA_TYPE']],
].flatMap(([status, types]) => types.map((t) => [t, status])));

function describeError(e) {
  const message = e instanceof Error ? e.message : String(e);
  const code = /^Code: (\d+)\./.exec(message);
  const type = [...message.matchAll(/\(([A-Z0-9_]*[A-Z]{3}[A-Z0-9_]*)\)/g)].at(-1);
  if (code && type) return { code: Number(code[1]), status: STATUS_BY_TYPE.get(type[1]) ?? 500, text: message.trimEnd() };
  return { code: 1001, status: 500, text: `Code: 1001. DB::Exception: stand-in: ${message}. (STD_EXCEPTION)` };
}

// ---------------------------------------------------------------------------
// Sessions: statements run on a pool of chDB sessions on one data directory
// (one statement at a time each; sessions run in parallel). A session's
// database and settings are tracked and changed before a statement only
// where they differ from what the request asks, so nothing one request set
// reaches the next: a setting the request does not name is reset to DEFAULT.

class Pool {
  #idle = [];
  #waiting = [];
  #count = 0;

  constructor(Session, path, max) {
    this.Session = Session;
    this.path = path;
    this.max = max;
  }

  #open() {
    this.#count++;
    return { session: new this.Session(this.path), database: undefined, settings: new Map() };
  }

  async acquire() {
    const slot = this.#idle.pop();
    if (slot) return slot;
    if (this.#count < this.max) return this.#open();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(slot) {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else this.#idle.push(slot);
  }

  /** Closes a session whose state is unknown; the next caller gets a fresh one. */
  discard(slot) {
    slot.session.close();
    this.#count--;
    const next = this.#waiting.shift();
    if (next) next(this.#open());
  }

  /** A fresh session in place of `slot`, for the same caller. */
  replace(slot) {
    slot.session.close();
    this.#count--;
    return this.#open();
  }

  close() {
    for (const s of this.#idle) s.session.close();
    this.#idle = [];
  }
}

function literal(v) {
  return /^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function prepare(slot, database, settings) {
  if (slot.database !== database) {
    slot.database = undefined;
    await slot.session.queryAsync(`USE \`${database.replace(/`/g, '``')}\``);
    slot.database = database;
  }
  const changes = [];
  for (const [k, v] of settings) if (slot.settings.get(k) !== v) changes.push(`${k} = ${literal(v)}`);
  for (const k of slot.settings.keys()) if (!settings.has(k)) changes.push(`${k} = DEFAULT`);
  if (changes.length === 0) return;
  await slot.session.queryAsync(`SET ${changes.join(', ')}`);
  slot.settings = new Map(settings);
}

/**
 * Runs one statement on a pooled session set to the request's database and
 * settings. A session that cannot be set back (a previous request made it
 * readonly) is replaced by a fresh one; a statement that changes the
 * session itself (SET, USE, temporary tables) leaves with its session, as
 * a sessionless request's changes end with the request on a server.
 */
async function execute(pool, stmt) {
  let slot = await pool.acquire();
  let keep = false;
  try {
    try {
      await prepare(slot, stmt.database, stmt.settings);
    } catch {
      slot = pool.replace(slot);
      await prepare(slot, stmt.database, stmt.settings);
    }
    keep = !stmt.changesSession;
    const o = { format: stmt.format };
    return stmt.bind.size > 0 ? await slot.session.queryBindAsync(stmt.text, Object.fromEntries(stmt.bind), o) : await slot.session.queryAsync(stmt.text, o);
  } finally {
    if (keep) pool.release(slot);
    else pool.discard(slot);
  }
}

// ---------------------------------------------------------------------------
// The HTTP side.

// Parameters that are the HTTP interface's own, not settings.
const NOT_SETTINGS = new Set(['query', 'database', 'query_id', 'user', 'password', 'quota_key', 'session_id', 'session_timeout', 'session_check',
  'compress', 'decompress', 'role', 'buffer_size', 'default_format', 'stacktrace']);
// Settings only the HTTP layer acts on (or that change nothing when the
// whole answer is computed before it is sent).
const HTTP_SETTINGS = new Set(['enable_http_compression', 'http_zlib_compression_level', 'wait_end_of_query', 'send_progress_in_http_headers',
  'http_headers_progress_interval_ms', 'http_response_buffer_size', 'http_wait_end_of_query', 'add_http_cors_header', 'cancel_http_readonly_queries_on_client_close',
  'http_native_compression_disable_checksumming_on_decompress', 'http_response_headers']);
const READ_KINDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESC', 'DESCRIBE', 'EXISTS', 'EXPLAIN', 'CHECK', '']);

function contentType(format) {
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TSV|TabSeparated)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  return 'text/plain; charset=UTF-8';
}

function decompress(body, encoding) {
  switch ((encoding ?? '').toLowerCase()) {
    case '':
    case 'identity':
      return body;
    case 'gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      return zlib.inflateSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    case 'zstd':
      if (typeof zlib.zstdDecompressSync === 'function') return zlib.zstdDecompressSync(body);
  }
  throw new StandinError(36, 'BAD_ARGUMENTS', `Unknown HTTP content encoding: ${encoding}`);
}

function compress(body, accept, level) {
  const offered = (accept ?? '').toLowerCase();
  if (/\bgzip\b/.test(offered)) return ['gzip', zlib.gzipSync(body, { level })];
  if (/\bdeflate\b/.test(offered)) return ['deflate', zlib.deflateSync(body, { level })];
  if (/\bbr\b/.test(offered)) return ['br', zlib.brotliCompressSync(body)];
  return [undefined, body];
}

function credentials(req, params) {
  const hUser = req.headers['x-clickhouse-user'];
  if (hUser !== undefined) return [String(hUser), String(req.headers['x-clickhouse-key'] ?? '')];
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const s = Buffer.from(basic[1], 'base64').toString();
    const c = s.indexOf(':');
    return c < 0 ? [s, ''] : [s.slice(0, c), s.slice(c + 1)];
  }
  return [params.get('user') ?? 'default', params.get('password') ?? ''];
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function serve(opts) {
  const { Session } = await import('chdb');
  const pool = new Pool(Session, opts.dataDir, opts.maxSessions ?? 8);
  const probe = await pool.acquire();
  const timezone = (await probe.session.queryAsync('SELECT timezone()', { format: 'TSVRaw' })).text().trim();
  pool.release(probe);
  const serverDefaults = new Map(Object.entries(opts.settings ?? {}).map(([k, v]) => [k, String(v)]));
  const log = process.env.STANDIN_LOG ? (m) => process.stderr.write(`[ch-standin] ${m}\n`) : () => {};

  async function run(req, res, url) {
    const params = url.searchParams;
    const queryId = params.get('query_id') || randomUUID();
    const headers = { 'X-ClickHouse-Query-Id': queryId, 'X-ClickHouse-Timezone': timezone, 'X-ClickHouse-Server-Display-Name': 'sluice-clickhouse-standin' };
    const body = await readBody(req);
    try {
      if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n');
        return;
      }
      if (url.pathname !== '/') throw new StandinError(0, 'NOT_FOUND', `There is no handle ${url.pathname}`);
      if (req.method !== 'GET' && req.method !== 'POST') throw new StandinError(36, 'BAD_ARGUMENTS', `method ${req.method} is not supported`);
      if (opts.password !== undefined) {
        const [user, password] = credentials(req, params);
        if (user !== (opts.user ?? 'default') || password !== opts.password) {
          throw new StandinError(516, 'AUTHENTICATION_FAILED', `${user}: Authentication failed: password is incorrect, or there is no user with such name`);
        }
      }
      if (params.has('session_id')) throw new StandinError(48, 'NOT_IMPLEMENTED', 'the stand-in does not implement HTTP sessions (session_id)');
      if (params.get('compress') === '1' || params.get('decompress') === '1') throw new StandinError(48, 'NOT_IMPLEMENTED', 'the stand-in does not implement native compression');
      if (/^multipart\//i.test(req.headers['content-type'] ?? '')) throw new StandinError(48, 'NOT_IMPLEMENTED', 'the stand-in does not implement multipart requests');

      const settings = new Map(serverDefaults);
      for (const [k, v] of params) {
        if (!NOT_SETTINGS.has(k) && !HTTP_SETTINGS.has(k) && !k.startsWith('param_')) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new StandinError(115, 'UNKNOWN_SETTING', `Unknown setting '${k}'`);
          settings.set(k, v);
        }
      }
      const database = params.get('database') ?? req.headers['x-clickhouse-database'] ?? 'default';
      const defaultFormat = params.get('default_format') ?? req.headers['x-clickhouse-format'] ?? 'TabSeparated';

      const queryParam = params.get('query');
      const text = (queryParam ? `${queryParam}\n` : '') + decompress(body, req.headers['content-encoding']).toString('utf8');
      if (text.trim() === '') throw new StandinError(62, 'SYNTAX_ERROR', 'Empty query');
      const scan = scanStatement(text);
      if (scan.multi !== undefined) {
        throw new StandinError(62, 'SYNTAX_ERROR', `Syntax error (Multi-statements are not allowed): failed at position ${scan.multi + 1} (end of query)`);
      }
      if (req.method === 'GET' && !READ_KINDS.has(scan.kind)) {
        throw new StandinError(164, 'READONLY', 'Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries');
      }
      const format = scan.kind === 'INSERT' ? undefined : (scan.format ?? defaultFormat);
      const bind = new Map();
      const types = placeholderTypes(scan.dataStart === undefined ? text : text.slice(0, scan.dataStart));
      for (const [k, v] of params) if (k.startsWith('param_')) bind.set(k.slice(6), bindValue(k.slice(6), v, types.get(k.slice(6))));

      let result;
      const emptyInsert = scan.dataStart !== undefined && text.slice(scan.dataStart).trim() === '';
      if (!emptyInsert) {
        const changesSession = scan.kind === 'SET' || scan.kind === 'USE' || /^\s*CREATE\s+TEMPORARY\b/i.test(text);
        result = await execute(pool, { text, database, settings, bind, format: format ?? 'TabSeparated', changesSession });
      }
      const bytes = result ? Buffer.from(result.bytes()) : Buffer.alloc(0);
      const rows = String(result?.rowsRead ?? 0);
      const read = String(result?.bytesRead ?? 0);
      const insert = scan.kind === 'INSERT';
      headers['X-ClickHouse-Summary'] = JSON.stringify({
        read_rows: rows, read_bytes: read, written_rows: insert ? rows : '0', written_bytes: insert ? read : '0', total_rows_to_read: '0',
        result_rows: insert ? '0' : rows, result_bytes: insert ? '0' : String(bytes.length), elapsed_ns: String(Math.round((result?.elapsed ?? 0) * 1e9)),
      });
      if (format !== undefined) headers['X-ClickHouse-Format'] = format;
      headers['Content-Type'] = contentType(format ?? 'TabSeparated');
      let out = bytes;
      if (params.get('enable_http_compression') === '1' && bytes.length > 0) {
        const level = Number(params.get('http_zlib_compression_level') ?? 3);
        const [enc, compressed] = compress(bytes, req.headers['accept-encoding'], level);
        if (enc) headers['Content-Encoding'] = enc;
        out = compressed;
      }
      log(`200 ${scan.kind} ${queryId}`);
      res.writeHead(200, headers).end(out);
    } catch (e) {
      const { code, status, text } = describeError(e);
      log(`${status} ${text.slice(0, 200)}`);
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': String(code) }).end(`${text} (version chdb stand-in)\n`);
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    run(req, res, url).catch((e) => {
      log(`internal error ${e?.stack ?? e}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`Code: 1001. DB::Exception: stand-in: ${e?.message ?? e}. (STD_EXCEPTION)\n`);
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address();
  return {
    url: `http://${addr.address}:${addr.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
      pool.close();
    },
  };
}

// ---------------------------------------------------------------------------
// As a program.

if (process.argv[1] === SELF) {
  const opts = { settings: {} };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--data-dir') opts.dataDir = v;
    else if (a === '--user') opts.user = v;
    else if (a === '--password') opts.password = v;
    else if (a === '--setting') {
      const eq = v.indexOf('=');
      if (eq < 1) throw new Error(`--setting ${v}: expected name=value`);
      opts.settings[v.slice(0, eq)] = v.slice(eq + 1);
    } else throw new Error(`unknown option ${a}`);
  }
  const own = opts.dataDir === undefined;
  opts.dataDir ??= mkdtempSync(join(tmpdir(), 'ch-standin-'));
  const s = await serve(opts);
  process.stdout.write(JSON.stringify({ url: s.url }) + '\n');
  const stop = async () => {
    await s.close();
    if (own) rmSync(opts.dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
