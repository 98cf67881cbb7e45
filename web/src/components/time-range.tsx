// Time range: relative presets ("last 1h", sent to the API as from=1h) or
// absolute from/to (RFC 3339). The API takes both forms as they are.
import { useEffect, useState } from 'preact/hooks';

export interface Range {
  readonly from: string;
  readonly to: string;
}

export const PRESETS = ['5m', '15m', '1h', '6h', '24h', '7d'] as const;
export const DEFAULT_RANGE: Range = { from: '1h', to: 'now' };

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A range endpoint as epoch milliseconds at `now`. */
export function toMs(value: string, now = Date.now()): number {
  if (value === 'now' || value === '') return now;
  const d = DURATION.exec(value);
  if (d) return now - Number(d[1]) * UNIT_MS[d[2]!]!;
  return Date.parse(value);
}

export function isRelative(r: Range): boolean {
  return DURATION.test(r.from) && (r.to === 'now' || r.to === '');
}

export function describe(r: Range): string {
  if (isRelative(r)) return `last ${r.from}`;
  return `${new Date(toMs(r.from)).toLocaleString()} – ${r.to === 'now' ? 'now' : new Date(toMs(r.to)).toLocaleString()}`;
}

/** A range in a sentence: "the last 1h", or an absolute range's from – to. */
export function rangeText(r: Range): string {
  return isRelative(r) ? `the last ${r.from}` : describe(r);
}

/** datetime-local wants local time without zone. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

export function TimeRangePicker(props: { value: Range; onChange: (r: Range) => void }) {
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  useEffect(() => {
    setFrom(localInput(toMs(props.value.from)));
    setTo(localInput(toMs(props.value.to)));
  }, [props.value.from, props.value.to, open]);
  return (
    <div class="time-range">
      <select
        aria-label="Time range"
        // While the from/to form is open the choice is "custom", though the range in force is still the old one.
        value={open || !isRelative(props.value) ? 'custom' : props.value.from}
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          if (v === 'custom') setOpen(true);
          else {
            setOpen(false);
            props.onChange({ from: v, to: 'now' });
          }
        }}
      >
        {PRESETS.map((p) => (
          <option value={p} key={p}>
            last {p}
          </option>
        ))}
        {/* A relative range from a link or saved search that is not a preset. */}
        {isRelative(props.value) && !(PRESETS as readonly string[]).includes(props.value.from) && (
          <option value={props.value.from}>last {props.value.from}</option>
        )}
        <option value="custom">{isRelative(props.value) ? 'custom…' : describe(props.value)}</option>
      </select>
      {open && (
        <form
          class="absolute-range"
          onSubmit={(e) => {
            e.preventDefault();
            const f = new Date(from).getTime();
            const t = new Date(to).getTime();
            if (!Number.isFinite(f) || !Number.isFinite(t) || f >= t) return;
            setOpen(false);
            props.onChange({ from: new Date(f).toISOString(), to: new Date(t).toISOString() });
          }}
        >
          <label>
            from <input type="datetime-local" step="1" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            to <input type="datetime-local" step="1" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Apply</button>
        </form>
      )}
    </div>
  );
}
