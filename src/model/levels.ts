// Canonical levels and their OpenTelemetry severity ranges. One table maps
// syslog severities, pino/bunyan numbers and common level words onto them.

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

/** The lowest OpenTelemetry severity number of each level (each spans four). */
export const LEVEL_SEVERITY: Readonly<Record<Level, number>> = {
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
};

export interface LevelInfo {
  readonly level: Level;
  readonly severity: number;
}

const info = (level: Level, offset = 0): LevelInfo => ({ level, severity: LEVEL_SEVERITY[level] + offset });

// Level words seen in the wild, lower-cased. Syslog keywords follow the
// OpenTelemetry collector's syslog mapping (notice = INFO2, crit = FATAL2 ...).
const WORDS: ReadonlyMap<string, LevelInfo> = new Map([
  ['trace', info('trace')], ['finest', info('trace')], ['finer', info('trace', 1)], ['verbose', info('trace', 2)], ['v', info('trace', 2)],
  ['debug', info('debug')], ['dbg', info('debug')], ['fine', info('debug')], ['d', info('debug')],
  ['info', info('info')], ['information', info('info')], ['informational', info('info')], ['inf', info('info')], ['i', info('info')],
  ['notice', info('info', 1)], ['config', info('info')],
  ['warn', info('warn')], ['warning', info('warn')], ['wrn', info('warn')], ['w', info('warn')],
  ['error', info('error')], ['err', info('error')], ['eror', info('error')], ['severe', info('error', 1)], ['e', info('error')],
  ['crit', info('fatal', 1)], ['critical', info('fatal', 1)], ['alert', info('fatal', 2)], ['emerg', info('fatal', 3)],
  ['emergency', info('fatal', 3)], ['fatal', info('fatal')], ['panic', info('fatal', 3)], ['f', info('fatal')],
]);

// RFC 5424 severity 0-7.
const SYSLOG: readonly LevelInfo[] = [
  info('fatal', 3), info('fatal', 2), info('fatal', 1), info('error'),
  info('warn'), info('info', 1), info('info'), info('debug'),
];

export function levelFromSyslogSeverity(sev: number): LevelInfo {
  return SYSLOG[sev] ?? info('info');
}

export function levelFromSeverityNumber(n: number): LevelInfo {
  const s = Math.min(24, Math.max(1, Math.trunc(n)));
  const idx = Math.floor((s - 1) / 4);
  return { level: LEVELS[idx] ?? 'info', severity: s };
}

// pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
function levelFromPinoNumber(n: number): LevelInfo | undefined {
  if (n < 10 || n > 60) return undefined;
  const idx = Math.min(5, Math.floor(n / 10) - 1);
  return info(LEVELS[idx] ?? 'info');
}

/**
 * Reads a level from whatever a logger wrote: a word ("WARN", "Warning"),
 * a pino/bunyan number (40), or an OpenTelemetry severity number when the
 * field says so. Returns undefined when it means nothing we know.
 */
export function parseLevel(value: unknown, numberKind: 'pino' | 'otel' = 'pino'): LevelInfo | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (numberKind === 'otel') return value >= 1 && value <= 24 ? levelFromSeverityNumber(value) : undefined;
    return levelFromPinoNumber(value);
  }
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (/^\d+$/.test(word)) return parseLevel(Number(word), numberKind);
  return WORDS.get(word);
}

export function isLevel(s: string): s is Level {
  return (LEVELS as readonly string[]).includes(s);
}
