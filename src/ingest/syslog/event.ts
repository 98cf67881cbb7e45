// A parsed syslog message becomes a LogEvent: severity → level, APP-NAME →
// service, HOSTNAME → host, structured data → attributes (`sdid.param`).
// The `token` parameter of any SD element authenticates the sender and is
// never stored.
import type { LogEvent } from '../../model/event.js';
import { type LevelInfo, LEVEL_SEVERITY, levelFromSyslogSeverity } from '../../model/levels.js';
import { finish, type NormalizeContext } from '../normalize.js';
import { facilityName, type SyslogMessage } from './parse.js';

/** The SD parameter that carries a Sluice token, in any SD element. */
export const TOKEN_PARAM = 'token';

/** The token in a message's structured data, if any (the last one wins). */
export function sdToken(m: SyslogMessage): string | undefined {
  let token: string | undefined;
  for (const el of m.sd) for (const [k, v] of el.params) if (k === TOKEN_PARAM) token = v;
  return token;
}

// A frame that did not parse may still carry its token: a raw frame is
// searched for it so the sender's other messages and this one go alike.
const RAW_TOKEN = /\btoken="([^"\\\]]{1,512})"/;

export function rawToken(text: string): string | undefined {
  return RAW_TOKEN.exec(text.slice(0, 4096))?.[1];
}

export interface EventExtras {
  /** Attributes added beside the message's own (parse errors, truncation). */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly service?: string | undefined;
  readonly host?: string | undefined;
  readonly level?: LevelInfo | undefined;
}

/** Builds the event; `extras` win over what the message says. */
export function syslogEvent(m: SyslogMessage, nctx: NormalizeContext, extras: EventExtras = {}): LogEvent {
  const attributes: Record<string, string> = {};
  let count = 0;
  let dropped = 0;
  const put = (k: string, v: string) => {
    if (count >= nctx.maxAttributes && !(k in attributes)) {
      dropped++;
      return;
    }
    if (!(k in attributes)) count++;
    attributes[k] = v;
  };
  if (m.facility !== undefined) put('syslog.facility', facilityName(m.facility));
  if (m.procId !== '') put('syslog.procid', m.procId);
  if (m.msgId !== '') put('syslog.msgid', m.msgId);
  if (m.badTime !== undefined) put('syslog.timestamp', m.badTime);
  if (m.error !== undefined) put('syslog.parse_error', m.error);
  for (const el of m.sd) for (const [k, v] of el.params) if (k !== TOKEN_PARAM) put(`${el.id}.${k}`, v);
  if (extras.attributes) for (const [k, v] of Object.entries(extras.attributes)) put(k, v);
  // Over SLUICE_MAX_ATTRIBUTES the rest are dropped and counted, rather
  // than refusing a message its sender cannot resend.
  if (dropped > 0) attributes['syslog.attributes_dropped'] = String(dropped);

  const level = extras.level ?? (m.severity === undefined ? { level: 'info' as const, severity: LEVEL_SEVERITY.info } : levelFromSyslogSeverity(m.severity));
  return finish(
    {
      timeNs: m.timeNs ?? nctx.receivedNs,
      service: extras.service || m.appName || nctx.defaultService,
      host: extras.host || m.hostname || nctx.defaultHost,
      level,
      message: m.message,
      attributes,
      traceId: '',
      spanId: '',
    },
    nctx,
  );
}
