// One event in full: every field, the events around it ("Show context",
// from /api/v1/events/{id}/context, the event itself highlighted) and a
// link to it that can be copied. Used by search and the event view; the
// live tail can reuse it.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type LogEvent } from '../api';
import { clock, copyText, dateTime, eventFields, levelClass } from '../format';
import '../views/search.css';

export interface EventContext {
  event: LogEvent;
  before: LogEvent[];
  after: LogEvent[];
}

const CONTEXT_SIZE = 10;

export function fetchContext(id: string, signal?: AbortSignal): Promise<EventContext> {
  return api<EventContext>(`/api/v1/events/${encodeURIComponent(id)}/context`, { query: { before: CONTEXT_SIZE, after: CONTEXT_SIZE }, signal });
}

/** The address that opens this event for anyone signed in to this Sluice. */
export function eventLink(id: string): string {
  return `${location.origin}/#/event/${encodeURIComponent(id)}`;
}

export function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/** Wall-clock time with the milliseconds apart: narrow screens drop them to keep the service in view. */
export function Clock(props: { iso: string }) {
  const c = clock(props.iso);
  return (
    <>
      {c.slice(0, 8)}
      <span class="ms">{c.slice(8)}</span>
    </>
  );
}

/** One event on one line: time, level, service, message. */
export function EventLine(props: { event: LogEvent }) {
  const e = props.event;
  return (
    <>
      <time class="t" dateTime={e.time}>
        <span class="date">{dateTime(e.time).slice(0, 11)}</span>
        <Clock iso={e.time} />
      </time>
      <span class={levelClass(e.level)}>{e.level}</span>
      <span class="svc" title={e.host ? `${e.service} on ${e.host}` : e.service}>
        {e.service}
      </span>
      <span class="msg">{e.message}</span>
    </>
  );
}

export function ContextList(props: { context: EventContext }) {
  const { event, before, after } = props.context;
  const all = [...before, event, ...after];
  return (
    <div class="context">
      <p class="hint">
        {before.length} before and {after.length} after from {event.service}
        {event.host ? ` on ${event.host}` : ''}
      </p>
      <ol aria-label="Context">
        {all.map((e) => (
          <li key={e.id} class={e.id === event.id ? 'ev current' : 'ev'} aria-current={e.id === event.id ? 'true' : undefined}>
            <EventLine event={e} />
          </li>
        ))}
      </ol>
    </div>
  );
}

function ContextLoader(props: { id: string; initial?: EventContext | undefined }) {
  const [ctx, setCtx] = useState<EventContext | null>(props.initial ?? null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (props.initial) return;
    const ac = new AbortController();
    fetchContext(props.id, ac.signal).then(setCtx, (err: unknown) => {
      if ((err as Error).name !== 'AbortError') setError(errorText(err));
    });
    return () => ac.abort();
  }, [props.id, props.initial]);
  if (error)
    return (
      <p class="error" role="alert">
        Could not load the context: {error}
      </p>
    );
  if (!ctx) return <p class="hint">Loading the events around it…</p>;
  return <ContextList context={ctx} />;
}

export function EventDetail(props: { event: LogEvent; context?: EventContext; contextOpen?: boolean }) {
  const e = props.event;
  const [showContext, setShowContext] = useState(props.contextOpen ?? false);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const link = eventLink(e.id);
  return (
    <div class="event-detail">
      <FieldList event={e} withMessage />
      <div class="actions">
        <button type="button" class="secondary" aria-expanded={showContext} onClick={() => setShowContext(!showContext)}>
          {showContext ? 'Hide context' : 'Show context'}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            setCopied((await copyText(link)) ? 'yes' : 'no');
          }}
        >
          Copy link
        </button>
        <a href={`#/event/${encodeURIComponent(e.id)}`} class="permalink">
          Link to this event
        </a>
        <span role="status" class="hint">
          {copied === 'yes' ? 'Link copied' : copied === 'no' ? `Copying is not allowed here; the link is ${link}` : ''}
        </span>
      </div>
      {showContext && <ContextLoader id={e.id} initial={props.context} />}
    </div>
  );
}

/** Every field of an event as a definition list (the message first when asked). */
export function FieldList(props: { event: LogEvent; withMessage?: boolean }) {
  return (
    <dl class="fields">
      {props.withMessage && (
        <>
          <dt>message</dt>
          <dd>{props.event.message}</dd>
        </>
      )}
      {eventFields(props.event).map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}
