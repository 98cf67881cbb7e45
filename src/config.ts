// Configuration comes from the environment only: one schema, read once at
// start, frozen, passed down. Nothing else in src/ reads process.env.
import { isIP } from 'node:net';
import { Ajv } from 'ajv';

export const ROLES = ['api', 'ingest', 'alerts'] as const;
export type Role = (typeof ROLES)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly clickhouse: {
    readonly url: string | undefined;
    readonly user: string;
    readonly password: string;
    readonly database: string;
  };
  readonly retentionDays: number;
  readonly adminToken: string | undefined;
  readonly roles: readonly Role[];
  readonly minFreeDiskBytes: number;
  readonly logLevel: string;
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxDecompressedBytes: number;
    readonly maxLineBytes: number;
    readonly maxAttributes: number;
  };
  readonly batch: {
    readonly maxRows: number;
    readonly maxWaitMs: number;
    readonly budgetBytes: number;
    readonly concurrency: number;
  };
  readonly tokenRateLimit: number;
  readonly tail: {
    readonly poller: boolean;
    readonly pollMs: number;
    readonly overlapMs: number;
    readonly maxPerToken: number;
    readonly bufferEvents: number;
  };
  readonly queryTimeoutSeconds: number;
  readonly queryMaxRows: number;
  /** Loki range queries' start and end rounded down to a multiple of the step. */
  readonly lokiAlignStep: boolean;
  readonly webhooks: { readonly allow: readonly string[]; readonly timeoutMs: number };
  /** Where rules push alerts (src/alerts/alertmanager.ts): the bearer token and basic auth go only to `url`'s origin; the TLS files serve every https Alertmanager. */
  readonly alertmanager: {
    readonly url: string | undefined;
    readonly bearerToken: string | undefined;
    readonly basicAuth: string | undefined;
    readonly caFile: string | undefined;
    readonly certFile: string | undefined;
    readonly keyFile: string | undefined;
    readonly resendMs: number;
  };
  readonly publicUrl: string;
  /** Client commands (token, ship, tail) reach a server through these. */
  readonly client: { readonly url: string | undefined; readonly token: string | undefined };
  /** Syslog listeners (src/ingest/syslog); a transport is off while its port is undefined. */
  readonly syslog: {
    readonly host: string;
    readonly tcpPort: number | undefined;
    readonly udpPort: number | undefined;
    readonly tlsPort: number | undefined;
    readonly tlsCert: string | undefined;
    readonly tlsKey: string | undefined;
    readonly trusted: readonly string[];
  };
}

interface VarSpec {
  readonly schema: Record<string, unknown>;
  readonly expects: string;
  readonly doc: string;
}

const MiB = 1024 * 1024;

// One entry per variable: its JSON schema (types, defaults, ranges), what a
// wrong value is told, and the line README's config table shows.
export const ENV_VARS = {
  PORT: { schema: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 }, expects: 'a port number 0-65535', doc: 'HTTP port to bind' },
  HOST: { schema: { type: 'string', minLength: 1, default: '0.0.0.0' }, expects: 'an address to bind', doc: 'HTTP address to bind' },
  SLUICE_DATA_DIR: { schema: { type: 'string', minLength: 1, default: './data' }, expects: 'a directory path', doc: 'Embedded ClickHouse data directory (when CLICKHOUSE_URL is unset)' },
  CLICKHOUSE_URL: { schema: { type: 'string', pattern: '^https?://' }, expects: 'an http(s):// URL', doc: 'ClickHouse server URL; unset = embedded engine' },
  CLICKHOUSE_USER: { schema: { type: 'string', default: 'default' }, expects: 'a user name', doc: 'ClickHouse server user' },
  CLICKHOUSE_PASSWORD: { schema: { type: 'string', default: '' }, expects: 'a password', doc: 'ClickHouse server password' },
  CLICKHOUSE_DATABASE: { schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', default: 'sluice' }, expects: 'a database name of letters, digits and _', doc: 'Database holding Sluice tables' },
  SLUICE_RETENTION_DAYS: { schema: { type: 'integer', minimum: 1, maximum: 3650, default: 30 }, expects: 'whole days 1-3650', doc: 'Days events are kept (TTL; applied by `sluice migrate`)' },
  SLUICE_ADMIN_TOKEN: { schema: { type: 'string', minLength: 16, maxLength: 256 }, expects: 'a secret of 16-256 characters', doc: 'Bootstrap admin token (not stored)' },
  SLUICE_ROLES: { schema: { type: 'string', pattern: '^(api|ingest|alerts)(,(api|ingest|alerts))*$', default: 'api,ingest,alerts' }, expects: 'a comma list of api, ingest, alerts', doc: 'What this process runs; a deployment runs exactly one `alerts`' },
  SLUICE_MIN_FREE_DISK: { schema: { type: 'integer', minimum: 0, default: 512 * MiB }, expects: 'bytes, a whole number', doc: 'Below this free space in the data dir ingest answers 503 and /readyz fails' },
  LOG_LEVEL: { schema: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info' }, expects: 'one of trace, debug, info, warn, error, fatal, silent', doc: 'Sluice\'s own log level' },
  SLUICE_MAX_BODY_BYTES: { schema: { type: 'integer', minimum: 1024, maximum: 1024 * MiB, default: 10 * MiB }, expects: 'bytes 1024-1GiB', doc: 'Largest request body (compressed size)' },
  SLUICE_MAX_DECOMPRESSED_BYTES: { schema: { type: 'integer', minimum: 1024, maximum: 4096 * MiB, default: 100 * MiB }, expects: 'bytes 1024-4GiB', doc: 'Largest body after gzip decompression' },
  SLUICE_MAX_LINE_BYTES: { schema: { type: 'integer', minimum: 256, maximum: 64 * MiB, default: 1 * MiB }, expects: 'bytes 256-64MiB', doc: 'Longest event line; longer lines are rejected one by one' },
  SLUICE_MAX_ATTRIBUTES: { schema: { type: 'integer', minimum: 1, maximum: 10000, default: 256 }, expects: 'a count 1-10000', doc: 'Most attributes one event may carry' },
  SLUICE_BATCH_MAX_ROWS: { schema: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 50_000 }, expects: 'rows 1-1000000', doc: 'Rows at which the batcher closes an insert' },
  SLUICE_BATCH_MAX_WAIT_MS: { schema: { type: 'integer', minimum: 0, maximum: 10_000, default: 200 }, expects: 'milliseconds 0-10000', doc: 'Longest an event waits for an insert to start' },
  SLUICE_BATCH_BUDGET_BYTES: { schema: { type: 'integer', minimum: MiB, maximum: 16384 * MiB, default: 128 * MiB }, expects: 'bytes 1MiB-16GiB', doc: 'Bytes the batcher holds (queued + inserting); past it ingest answers 503' },
  SLUICE_INSERT_CONCURRENCY: { schema: { type: 'integer', minimum: 1, maximum: 32, default: 1 }, expects: 'a count 1-32', doc: 'Inserts run at once (the embedded engine runs one per session)' },
  SLUICE_TOKEN_RATE_LIMIT: { schema: { type: 'integer', minimum: 0, default: 0 }, expects: 'events per second, 0 = off', doc: 'Per-token ingest rate limit (429 past it)' },
  SLUICE_QUERY_TIMEOUT: { schema: { type: 'integer', minimum: 1, maximum: 3600, default: 30 }, expects: 'seconds 1-3600', doc: 'Time limit of one read query' },
  SLUICE_QUERY_MAX_ROWS: { schema: { type: 'integer', minimum: 1000, default: 1_000_000_000 }, expects: 'rows, at least 1000', doc: 'Most rows one read query may scan' },
  SLUICE_LOKI_ALIGN_STEP: { schema: { type: 'string', enum: ['on', 'off'], default: 'on' }, expects: 'on or off', doc: "Loki metric range queries start and end on a multiple of their step, as Loki's align_queries_with_step does; on lets the per-minute rollups answer Grafana's panels" },
  SLUICE_TAIL_POLLER: { schema: { type: 'string', enum: ['auto', 'on', 'off'], default: 'auto' }, expects: 'auto, on or off', doc: 'Live tail reads events stored by other processes (auto: on with a ClickHouse server, off embedded)' },
  SLUICE_TAIL_POLL_MS: { schema: { type: 'integer', minimum: 100, maximum: 60_000, default: 1000 }, expects: 'milliseconds 100-60000', doc: 'How often the tail poller reads' },
  SLUICE_TAIL_OVERLAP_MS: { schema: { type: 'integer', minimum: 1000, maximum: 600_000, default: 15_000 }, expects: 'milliseconds 1000-600000', doc: 'How far back each poll rereads, for inserts that become visible late' },
  SLUICE_TAIL_MAX_PER_TOKEN: { schema: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 }, expects: 'a count 1-100000', doc: 'Live tail connections one token may hold' },
  SLUICE_TAIL_BUFFER_EVENTS: { schema: { type: 'integer', minimum: 10, maximum: 1_000_000, default: 10_000 }, expects: 'events 10-1000000', doc: 'Events held per viewer while paused or catching up; past it they are dropped and counted' },
  SLUICE_WEBHOOK_ALLOW: { schema: { type: 'string', pattern: '^[A-Za-z0-9.:/_-]*(,[A-Za-z0-9.:/_-]+)*$', default: '' }, expects: 'a comma list of host names, IPs or CIDRs', doc: 'Webhook targets allowed although they resolve to loopback, link-local or private addresses' },
  SLUICE_WEBHOOK_TIMEOUT_MS: { schema: { type: 'integer', minimum: 100, maximum: 60_000, default: 5000 }, expects: 'milliseconds 100-60000', doc: 'Time limit of one webhook attempt' },
  SLUICE_ALERTMANAGER_URL: { schema: { type: 'string', pattern: '^https?://' }, expects: 'an http(s):// URL', doc: 'Alertmanager that rules with `"alertmanager": {}` push to (its base URL; Sluice POSTs to /api/v2/alerts)' },
  SLUICE_ALERTMANAGER_BEARER_TOKEN: { schema: { type: 'string', minLength: 1 }, expects: 'a token', doc: 'Sent as Authorization: Bearer to SLUICE_ALERTMANAGER_URL (not to URLs rules name)' },
  SLUICE_ALERTMANAGER_BASIC_AUTH: { schema: { type: 'string', pattern: '^[^:]+:.+$' }, expects: 'user:password', doc: 'Basic auth for SLUICE_ALERTMANAGER_URL (not for URLs rules name; those may carry user:password@)' },
  SLUICE_ALERTMANAGER_CA_FILE: { schema: { type: 'string', minLength: 1 }, expects: 'a PEM file path', doc: 'CA certificates to trust for https Alertmanagers, besides the system ones' },
  SLUICE_ALERTMANAGER_CERT_FILE: { schema: { type: 'string', minLength: 1 }, expects: 'a PEM file path', doc: 'Client certificate for https Alertmanagers that ask for one (with SLUICE_ALERTMANAGER_KEY_FILE)' },
  SLUICE_ALERTMANAGER_KEY_FILE: { schema: { type: 'string', minLength: 1 }, expects: 'a PEM file path', doc: 'Private key of SLUICE_ALERTMANAGER_CERT_FILE' },
  SLUICE_ALERTMANAGER_RESEND_MS: { schema: { type: 'integer', minimum: 1000, maximum: 600_000, default: 60_000 }, expects: 'milliseconds 1000-600000', doc: 'How often a firing alert is sent to Alertmanager again; each send sets endsAt four of these ahead' },
  SLUICE_PUBLIC_URL: { schema: { type: 'string', pattern: '^https?://' }, expects: 'an http(s):// URL', doc: 'Base URL people reach Sluice at, for links in notifications (default http://localhost:$PORT)' },
  SLUICE_URL: { schema: { type: 'string', pattern: '^https?://' }, expects: 'an http(s):// URL', doc: 'Server URL for client commands (token, ship, tail)' },
  SLUICE_TOKEN: { schema: { type: 'string', minLength: 1 }, expects: 'a token', doc: 'Token for client commands' },
  SLUICE_SYSLOG_TCP_PORT: { schema: { type: 'integer', minimum: 0, maximum: 65535 }, expects: 'a port number 0-65535', doc: 'Syslog over TCP (RFC 6587 octet counting or LF framing); unset = off' },
  SLUICE_SYSLOG_UDP_PORT: { schema: { type: 'integer', minimum: 0, maximum: 65535 }, expects: 'a port number 0-65535', doc: 'Syslog over UDP, one message per datagram; unset = off' },
  SLUICE_SYSLOG_TLS_PORT: { schema: { type: 'integer', minimum: 0, maximum: 65535 }, expects: 'a port number 0-65535', doc: 'Syslog over TLS (RFC 5425); needs SLUICE_SYSLOG_TLS_CERT and _KEY; unset = off' },
  SLUICE_SYSLOG_TLS_CERT: { schema: { type: 'string', minLength: 1 }, expects: 'a PEM file path', doc: 'Certificate chain of the syslog TLS listener' },
  SLUICE_SYSLOG_TLS_KEY: { schema: { type: 'string', minLength: 1 }, expects: 'a PEM file path', doc: 'Private key of the syslog TLS listener' },
  SLUICE_SYSLOG_HOST: { schema: { type: 'string', minLength: 1 }, expects: 'an address to bind', doc: 'Address the syslog listeners bind (default: HOST)' },
  SLUICE_SYSLOG_TRUSTED: { schema: { type: 'string', pattern: '^[0-9A-Fa-f.:/]*(,[0-9A-Fa-f.:/]+)*$', default: '' }, expects: 'a comma list of IPs or CIDRs', doc: 'Syslog senders whose messages are stored without a token in structured data' },
} as const satisfies Record<string, VarSpec>;

type EnvName = keyof typeof ENV_VARS;

/** `serve` cannot start (schema behind, retention changed): exit 2 with the message. */
export class StartError extends Error {}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false });
const validate = ajv.compile({
  type: 'object',
  properties: Object.fromEntries(Object.entries(ENV_VARS).map(([k, v]) => [k, v.schema])),
  additionalProperties: true,
});

/**
 * Reads the variables Sluice knows from `env` and returns a frozen Config.
 * A wrong value throws a ConfigError whose one-line message names the
 * variable and what it expects.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(ENV_VARS) as EnvName[]) {
    const value = env[name];
    // An empty variable counts as unset, as shells and compose files often
    // export `FOO=` for "no value".
    if (value !== undefined && value !== '') raw[name] = value.trim();
  }
  // Integers may be written 1_000 or 1e6 by nobody; only plain digits pass.
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const v = raw[name];
    if (typeof v === 'string' && spec.schema.type === 'integer' && !/^\d+$/.test(v)) {
      throw new ConfigError(`${name}=${JSON.stringify(v)} is invalid: expected ${spec.expects}`);
    }
  }
  if (!validate(raw)) {
    const e = validate.errors?.[0];
    const name = (e?.instancePath.replace(/^\//, '') || 'environment') as EnvName;
    const spec = ENV_VARS[name] as VarSpec | undefined;
    const shown = env[name] === undefined ? '' : `=${JSON.stringify(env[name])}`;
    throw new ConfigError(`${name}${shown} is invalid: expected ${spec?.expects ?? e?.message ?? 'a valid value'}`);
  }
  const v = raw as Record<EnvName, never>;
  const roles = [...new Set(String(v.SLUICE_ROLES).split(','))] as Role[];
  const config: Config = {
    port: v.PORT,
    host: v.HOST,
    dataDir: v.SLUICE_DATA_DIR,
    clickhouse: {
      url: v.CLICKHOUSE_URL,
      user: v.CLICKHOUSE_USER,
      password: v.CLICKHOUSE_PASSWORD,
      database: v.CLICKHOUSE_DATABASE,
    },
    retentionDays: v.SLUICE_RETENTION_DAYS,
    adminToken: v.SLUICE_ADMIN_TOKEN,
    roles,
    minFreeDiskBytes: v.SLUICE_MIN_FREE_DISK,
    logLevel: v.LOG_LEVEL,
    limits: {
      maxBodyBytes: v.SLUICE_MAX_BODY_BYTES,
      maxDecompressedBytes: v.SLUICE_MAX_DECOMPRESSED_BYTES,
      maxLineBytes: v.SLUICE_MAX_LINE_BYTES,
      maxAttributes: v.SLUICE_MAX_ATTRIBUTES,
    },
    batch: {
      maxRows: v.SLUICE_BATCH_MAX_ROWS,
      maxWaitMs: v.SLUICE_BATCH_MAX_WAIT_MS,
      budgetBytes: v.SLUICE_BATCH_BUDGET_BYTES,
      concurrency: v.SLUICE_INSERT_CONCURRENCY,
    },
    tokenRateLimit: v.SLUICE_TOKEN_RATE_LIMIT,
    tail: {
      poller: v.SLUICE_TAIL_POLLER === 'on' || (v.SLUICE_TAIL_POLLER === 'auto' && v.CLICKHOUSE_URL !== undefined),
      pollMs: v.SLUICE_TAIL_POLL_MS,
      overlapMs: v.SLUICE_TAIL_OVERLAP_MS,
      maxPerToken: v.SLUICE_TAIL_MAX_PER_TOKEN,
      bufferEvents: v.SLUICE_TAIL_BUFFER_EVENTS,
    },
    queryTimeoutSeconds: v.SLUICE_QUERY_TIMEOUT,
    queryMaxRows: v.SLUICE_QUERY_MAX_ROWS,
    lokiAlignStep: v.SLUICE_LOKI_ALIGN_STEP === 'on',
    webhooks: { allow: String(v.SLUICE_WEBHOOK_ALLOW).split(',').filter((x) => x !== ''), timeoutMs: v.SLUICE_WEBHOOK_TIMEOUT_MS },
    alertmanager: {
      url: v.SLUICE_ALERTMANAGER_URL === undefined ? undefined : String(v.SLUICE_ALERTMANAGER_URL).replace(/\/+$/, ''),
      bearerToken: v.SLUICE_ALERTMANAGER_BEARER_TOKEN,
      basicAuth: v.SLUICE_ALERTMANAGER_BASIC_AUTH,
      caFile: v.SLUICE_ALERTMANAGER_CA_FILE,
      certFile: v.SLUICE_ALERTMANAGER_CERT_FILE,
      keyFile: v.SLUICE_ALERTMANAGER_KEY_FILE,
      resendMs: v.SLUICE_ALERTMANAGER_RESEND_MS,
    },
    publicUrl: String(v.SLUICE_PUBLIC_URL ?? `http://localhost:${v.PORT}`).replace(/\/+$/, ''),
    client: { url: v.SLUICE_URL, token: v.SLUICE_TOKEN },
    syslog: {
      host: v.SLUICE_SYSLOG_HOST ?? v.HOST,
      tcpPort: v.SLUICE_SYSLOG_TCP_PORT,
      udpPort: v.SLUICE_SYSLOG_UDP_PORT,
      tlsPort: v.SLUICE_SYSLOG_TLS_PORT,
      tlsCert: v.SLUICE_SYSLOG_TLS_CERT,
      tlsKey: v.SLUICE_SYSLOG_TLS_KEY,
      trusted: String(v.SLUICE_SYSLOG_TRUSTED).split(',').filter((x) => x !== ''),
    },
  };
  checkSyslog(config.syslog);
  return deepFreeze(config);
}

// Checks the schema cannot express: the TLS listener needs its files, and
// every trusted entry must be an address or a CIDR.
function checkSyslog(s: Config['syslog']): void {
  if (s.tlsPort !== undefined && (s.tlsCert === undefined || s.tlsKey === undefined)) {
    throw new ConfigError('SLUICE_SYSLOG_TLS_PORT is set: SLUICE_SYSLOG_TLS_CERT and SLUICE_SYSLOG_TLS_KEY must name PEM files');
  }
  for (const entry of s.trusted) {
    const [addr = '', bits, extra] = entry.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new ConfigError(`SLUICE_SYSLOG_TRUSTED entry ${JSON.stringify(entry)} is invalid: expected an IP address or a CIDR like 10.0.0.0/8`);
    }
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** True when this process serves the embedded engine (no CLICKHOUSE_URL). */
export function isEmbedded(config: Config): boolean {
  return config.clickhouse.url === undefined;
}

/** Whether a process with this config serves a role. */
export function hasRole(config: Config, role: Role): boolean {
  return config.roles.includes(role);
}

/** Markdown rows for README's config table, so docs cannot drift. */
export function configTableMarkdown(): string {
  const rows = Object.entries(ENV_VARS).map(([name, spec]) => {
    const s = spec.schema as { default?: unknown };
    const def = s.default === undefined ? '—' : `\`${String(s.default)}\``;
    return `| \`${name}\` | ${def} | ${spec.doc} | ${spec.expects} |`;
  });
  return ['| variable | default | meaning | accepts |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
