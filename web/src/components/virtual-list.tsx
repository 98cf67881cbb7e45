// A list that puts only the rows in view (plus a few either side) in the
// DOM, at a fixed row height, so the page costs the same with 50 rows or
// 20,000. It can follow the bottom (a live tail) and, when rows leave the
// top, shifts the scroll position by as many rows so what is on screen
// stays put. One transform per render moves the window of rows; rows carry
// no per-row position style.
import type { ComponentChild } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps {
  readonly count: number;
  /** How many rows have ever left the top (it only grows). */
  readonly removed: number;
  readonly rowHeight: number;
  /** Keep the last row in view as rows arrive. */
  readonly follow: boolean;
  /** The user scrolled away from the bottom (false) or back to it (true). */
  readonly onFollow: (follow: boolean) => void;
  /** Row `index`, keyed. */
  readonly row: (index: number) => ComponentChild;
  readonly overscan?: number;
  readonly label: string;
  readonly class?: string;
}

export function VirtualList(p: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null);
  // The scroll position last rendered or seen, and `removed` at that time.
  const top = useRef(0);
  const removedAt = useRef(p.removed);
  const [height, setHeight] = useState(0);
  const [, setFirstVisible] = useState(0);
  const overscan = p.overscan ?? 12;
  const total = p.count * p.rowHeight;
  const bottom = Math.max(0, total - height);
  const want = p.follow ? bottom : Math.min(bottom, Math.max(0, top.current - (p.removed - removedAt.current) * p.rowHeight));
  const first = Math.max(0, Math.floor(want / p.rowHeight) - overscan);
  const last = Math.min(p.count, Math.ceil((want + height) / p.rowHeight) + overscan);

  useLayoutEffect(() => {
    removedAt.current = p.removed;
    top.current = want;
    const el = box.current;
    if (el && Math.abs(el.scrollTop - want) >= 1) el.scrollTop = want;
  });

  useLayoutEffect(() => {
    const el = box.current!;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const el = box.current!;
    top.current = el.scrollTop;
    // Half a row of slack: sub-pixel scroll positions are not "scrolled up".
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - p.rowHeight / 2;
    if (atBottom !== p.follow) p.onFollow(atBottom);
    // Re-render only when the scroll moved the window by a row.
    setFirstVisible(Math.floor(el.scrollTop / p.rowHeight));
  };

  const rows: ComponentChild[] = [];
  for (let i = first; i < last; i++) rows.push(p.row(i));
  return (
    <div ref={box} class={`vlist ${p.class ?? ''}`} role="region" aria-label={p.label} tabIndex={0} onScroll={onScroll}>
      <div class="vlist-space" style={{ height: `${total}px` }}>
        <div class="vlist-rows" style={{ transform: `translateY(${first * p.rowHeight}px)` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
