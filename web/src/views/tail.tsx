// Live tail: the WebSocket /api/v1/tail, newest at the bottom. Events from
// the socket wait in a queue and are applied once per animation frame, so
// 2,000 events/s cost one render a frame, not one per message; the list is
// virtual (the DOM holds only the rows in view) and memory is a ring of the
// newest KEEP events. Pause holds events here rather than on the server, so
// the bar can say how many wait (at most KEEP; past it they count as
// dropped). A lost socket reconnects with backoff and asks for what it
// missed since the last event received; ids already held are skipped.
import { Component } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { LogEvent } from '../api';
import { QueryBox, type QueryError } from '../components/query-box';
import { Clock, FieldList } from '../components/event-detail';
import { VirtualList } from '../components/virtual-list';
import { dateTime, fieldTerm, levelClass, plural } from '../format';
import { href, navigate } from '../router';
import type { ViewProps } from './index';
import { type Status, TailConnection } from './tail-connection';
import { KEEP, TailStore } from './tail-store';
import './tail.css';

/** A row shows this much of a message; the detail shows all of it. */
const ROW_CHARS = 400;

const LABEL: Record<Status['kind'], string> = { connecting: 'Connecting…', live: 'Live', retrying: 'Reconnecting', failed: 'Stopped' };

export function TailView(props: ViewProps) {
  const q = props.route.params.get('q') ?? '';
  const store = useMemo(() => new TailStore(), []);
  const rowH = useMemo(() => parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h')) || 22, []);
  const conn = useRef<TailConnection | null>(null);
  const paused = useRef(false);
  const [isPaused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const [status, setStatus] = useState<Status>({ kind: 'connecting' });
  const [queryErr, setQueryErr] = useState<QueryError | null>(null);
  const [selected, setSelected] = useState<LogEvent | null>(null);
  const [, setVersion] = useState(0);
  const [queued, setQueued] = useState(0);
  const schedule = useRef<() => void>(() => {});

  useEffect(() => {
    let cancel: (() => void) | undefined;
    const flush = () => {
      cancel = undefined;
      // Paused: the list holds still; only the count of what waits moves.
      if (paused.current) setQueued(store.queued);
      else if (store.apply()) {
        setQueued(0);
        setVersion((v) => v + 1);
      }
    };
    schedule.current = () => {
      if (cancel) return;
      // No frames in a hidden tab: apply on a timer so the queue is not cut.
      if (document.hidden) {
        const t = setTimeout(flush, 500);
        cancel = () => clearTimeout(t);
      } else {
        const f = requestAnimationFrame(flush);
        cancel = () => cancelAnimationFrame(f);
      }
    };
    const c = new TailConnection(
      {
        events: (events) => {
          store.receive(events);
          schedule.current();
        },
        reset: () => {
          // The server took a new filter: a new list, with its own backfill.
          store.clear();
          setFollow(true);
          setQueued(0);
          setVersion((v) => v + 1);
        },
        dropped: (n) => {
          store.serverDropped += n;
          setVersion((v) => v + 1);
        },
        queryError: setQueryErr,
        status: setStatus,
      },
      () => store.lastTime,
    );
    conn.current = c;
    c.start();
    return () => {
      c.stop();
      cancel?.();
    };
  }, [store]);

  useEffect(() => {
    // The list starts over when the server takes the filter (reset above),
    // not before: a filter it refuses leaves the old one running.
    setQueryErr(null);
    conn.current?.subscribe(q);
  }, [q]);

  const togglePause = () => {
    const next = !paused.current;
    paused.current = next;
    setPaused(next);
    schedule.current();
  };

  const select = useCallback((e: LogEvent) => setSelected((cur) => (cur?.id === e.id ? null : e)), []);
  const selId = selected?.id;
  const row = (i: number) => {
    const e = store.at(i);
    return <Row key={e.id} event={e} selected={e.id === selId} onSelect={select} />;
  };

  const dropped = store.serverDropped + store.discarded;
  const state = isPaused ? 'paused' : status.kind;
  return (
    <section class="view tail">
      <div class="toolbar">
        <QueryBox
          value={q}
          error={queryErr}
          label="Filter"
          placeholder="Filter: service:api level:>=warn   (Enter to apply, / to focus)"
          onSubmit={(next) => navigate('/tail', { q: next }, true)}
        />
        <button type="button" class="secondary tail-pause" aria-pressed={isPaused} onClick={togglePause}>
          {isPaused ? 'Resume' : 'Pause'}
        </button>
      </div>
      <div class="tail-bar">
        <span class="tail-state" data-state={state} role="status">
          {isPaused ? `Paused${queued > 0 ? ` · ${queued.toLocaleString()} new` : ''}` : LABEL[status.kind]}
          {status.text ? `: ${status.text}` : ''}
        </span>
        <span class="tail-count">{plural(store.size, 'event')}</span>
        <span
          class={dropped > 0 ? 'tail-dropped warn' : 'tail-dropped'}
          data-dropped={dropped}
          title={`${store.serverDropped} dropped by the server (this view fell behind); ${store.discarded} received but never shown (this view keeps at most ${KEEP.toLocaleString()} waiting, e.g. while paused)`}
        >
          {dropped.toLocaleString()} dropped
        </span>
      </div>
      <div class="tail-main">
        <VirtualList label="Events" class="tail-list" count={store.size} removed={store.removed} rowHeight={rowH} follow={follow} onFollow={setFollow} row={row} />
        {store.size === 0 && <p class="tail-empty">{isPaused ? 'Paused.' : q ? 'Waiting for events that match the filter…' : 'Waiting for events…'}</p>}
        {!follow && (
          <button type="button" class="tail-jump" onClick={() => setFollow(true)}>
            Jump to live ↓
          </button>
        )}
      </div>
      {selected && <Detail event={selected} onClose={() => setSelected(null)} />}
    </section>
  );
}

interface RowProps {
  event: LogEvent;
  selected: boolean;
  onSelect: (e: LogEvent) => void;
}

/** A shown row changes only when selected: re-renders skip the rows already in the DOM. */
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.event !== this.props.event || next.selected !== this.props.selected;
  }

  override render() {
    const { event: e, selected: sel, onSelect } = this.props;
    return (
      <button type="button" class={sel ? 'ev tail-row sel' : 'ev tail-row'} data-id={e.id} aria-expanded={sel} aria-controls={sel ? 'tail-detail' : undefined} onClick={() => onSelect(e)}>
        <span class="t">
          <Clock iso={e.time} />
        </span>
        <span class={levelClass(e.level)}>{e.level}</span>
        <span class="svc">{e.service}</span>
        <span class="msg">{e.message.length > ROW_CHARS ? `${e.message.slice(0, ROW_CHARS)}…` : e.message}</span>
      </button>
    );
  }
}

function Detail(props: { event: LogEvent; onClose: () => void }) {
  const e = props.event;
  return (
    <aside id="tail-detail" class="tail-detail" aria-label="Event" onKeyDown={(k) => k.key === 'Escape' && props.onClose()}>
      <div class="tail-detail-head">
        <span class={levelClass(e.level)}>{e.level}</span>
        <span class="mono">{dateTime(e.time)}</span>
        <a href={href(`/event/${encodeURIComponent(e.id)}`)}>Open event</a>
        <a href={href('/search', { q: fieldTerm('service', e.service) })}>Search {e.service}</a>
        <button type="button" class="link" onClick={props.onClose}>
          Close
        </button>
      </div>
      <pre class="tail-detail-msg">{e.message}</pre>
      <FieldList event={e} />
    </aside>
  );
}
