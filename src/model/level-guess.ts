// Guesses the level of a plain text line from the markers loggers put near
// its start: `ERROR`, `[warn]`, `<crit>`, logcat's single letter before a
// `Tag:`, glog's `E0102`. Only the first few tokens are looked at, so a
// message that merely mentions "error" later on is not taken for one.
import { type LevelInfo, parseLevel } from './levels.js';

const UPPER = new Set(['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARN', 'WARNING', 'ERROR', 'ERR', 'CRIT', 'CRITICAL', 'ALERT', 'EMERG', 'FATAL', 'PANIC', 'SEVERE', 'VERBOSE']);
const LOWER = new Set(['trace', 'debug', 'info', 'notice', 'warn', 'warning', 'error', 'err', 'crit', 'critical', 'alert', 'emerg', 'fatal', 'panic']);
const GLOG = /^([IWEF])\d{4} \d{2}:\d{2}:\d{2}/;
const LOGCAT_LETTERS = new Set(['V', 'D', 'I', 'W', 'E', 'F']);
const TOKENS = 8;
const BRACKETED = /^[[(<]|[\])>:,|]$/;

export function guessLevel(line: string): LevelInfo | undefined {
  const glog = GLOG.exec(line);
  if (glog) return parseLevel(glog[1]);
  const tokens = line.slice(0, 200).split(/\s+/, TOKENS + 1);
  for (let i = 0; i < Math.min(tokens.length, TOKENS); i++) {
    const raw = tokens[i]!;
    // The longest marker is `[CRITICAL]:`-sized; most tokens are skipped
    // without allocating, and only bracketed ones are stripped.
    if (raw.length > 14) continue;
    const bare = BRACKETED.test(raw) ? raw.replace(/^[[(<]+|[\])>:,|]+$/g, '') : raw;
    if (UPPER.has(bare)) return parseLevel(bare);
    // Lower-case words only when bracketed or tagged, as in `[error]` or `level:`.
    if (LOWER.has(bare) && bare !== raw) return parseLevel(bare);
    // logcat: `... 1702  2395 D WindowManager: ...`
    if (LOGCAT_LETTERS.has(raw) && tokens[i + 1]?.endsWith(':')) return parseLevel(raw === 'V' ? 'verbose' : raw);
  }
  return undefined;
}
