// A row of tabs over one panel (WAI-ARIA tabs): the chosen tab is the one
// stop for Tab, the arrow keys, Home and End move between them. The caller
// keeps the choice (search keeps it in the hash) and renders the panel with
// id `panel` and aria-labelledby `tabId(panel, chosen)`.
import { useRef } from 'preact/hooks';

export interface TabEntry<T extends string> {
  readonly id: T;
  readonly title: string;
}

export function tabId(panel: string, id: string): string {
  return `${panel}-tab-${id}`;
}

export function Tabs<T extends string>(props: { label: string; panel: string; tabs: ReadonlyArray<TabEntry<T>>; selected: T; onSelect: (id: T) => void }) {
  const list = useRef<HTMLDivElement>(null);
  const move = (to: number) => {
    const n = props.tabs.length;
    const tab = props.tabs[(to + n) % n]!;
    props.onSelect(tab.id);
    list.current?.querySelector<HTMLButtonElement>(`#${tabId(props.panel, tab.id)}`)?.focus();
  };
  const at = props.tabs.findIndex((t) => t.id === props.selected);
  return (
    <div
      class="tabs"
      role="tablist"
      aria-label={props.label}
      ref={list}
      onKeyDown={(e) => {
        const keys: Record<string, number> = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: props.tabs.length - 1 };
        const to = keys[e.key];
        if (to === undefined) return;
        e.preventDefault();
        move(to);
      }}
    >
      {props.tabs.map((t) => {
        const on = t.id === props.selected;
        return (
          <button
            key={t.id}
            id={tabId(props.panel, t.id)}
            type="button"
            role="tab"
            aria-selected={on ? 'true' : 'false'}
            aria-controls={props.panel}
            tabIndex={on ? 0 : -1}
            onClick={() => props.onSelect(t.id)}
          >
            {t.title}
          </button>
        );
      })}
    </div>
  );
}
