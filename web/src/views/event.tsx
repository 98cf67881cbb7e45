// One event by id (#/event/<id>): the target of "Copy link". Shows its
// fields and the events around it, and offers a search around its time.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText, EventDetail, type EventContext, EventLine, fetchContext } from '../components/event-detail';
import { epochMs, fieldTerm } from '../format';
import type { ViewProps } from './index';
import { searchHref } from './search';

const AROUND_MS = 5 * 60_000;

export function EventView(props: ViewProps) {
  const id = decodeURIComponent(props.route.path.replace(/^\/event\/?/, ''));
  const [ctx, setCtx] = useState<EventContext | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ac = new AbortController();
    setCtx(null);
    setError(null);
    if (!id) return;
    fetchContext(id, ac.signal).then(setCtx, (err: unknown) => {
      if ((err as Error).name !== 'AbortError') setError(err);
    });
    return () => ac.abort();
  }, [id]);

  let body;
  if (!id) body = <p>No event id in the address.</p>;
  else if (error instanceof ApiError && error.status === 404) body = <p role="alert">No event has id {id}: it may be older than the retention, or the link is mistyped.</p>;
  else if (error)
    body = (
      <p class="error" role="alert">
        {errorText(error)}
      </p>
    );
  else if (!ctx) body = <p class="hint">Loading event {id}…</p>;
  else {
    const t = epochMs(ctx.event.time);
    const around = { from: new Date(t - AROUND_MS).toISOString(), to: new Date(t + AROUND_MS).toISOString() };
    body = (
      <>
        <p class="ev">
          <EventLine event={ctx.event} />
        </p>
        <p>
          <a href={searchHref(fieldTerm('service', ctx.event.service), around)}>Search {ctx.event.service} 5 minutes either side</a>
        </p>
        <EventDetail event={ctx.event} context={ctx} contextOpen />
      </>
    );
  }
  return (
    <section class="view event-view">
      <h2>Event</h2>
      {body}
    </section>
  );
}
