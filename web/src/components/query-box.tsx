// The query input shared by live tail and search: submits on Enter, shows
// the server's parse error under the box with a caret at its position.
// `/` anywhere on the page focuses it; Esc clears it.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api';

export interface QueryError {
  readonly message: string;
  readonly position?: number | undefined;
}

// The codes of a query the server could not take: it does not parse, or
// its /regex/ is not RE2.
const QUERY_CODES = new Set(['SLUICE_ERR_QUERY_SYNTAX', 'SLUICE_ERR_INVALID_REGEX']);

export function queryError(err: unknown): QueryError | null {
  const e = err as ApiError;
  if (e && typeof e.code === 'string' && QUERY_CODES.has(e.code)) return { message: e.message, position: e.position };
  return null;
}

export function QueryBox(props: {
  value: string;
  onSubmit: (q: string) => void;
  error?: QueryError | null;
  placeholder?: string;
  label?: string;
}) {
  const [text, setText] = useState(props.value);
  const input = useRef<HTMLInputElement>(null);
  // The box follows the query when it changes from outside (the hash, a
  // link), and only then: run on mount too, as effects are, after the
  // first paint, it wiped what was typed in the box since (e2e patterns:
  // a fill right after navigating back, then Enter, sent the old query).
  const shown = useRef(props.value);
  useEffect(() => {
    if (shown.current === props.value) return;
    shown.current = props.value;
    setText(props.value);
  }, [props.value]);
  const err = props.error;
  return (
    <div class="query-box">
      <label class="visually-hidden" for="q">{props.label ?? 'Query'}</label>
      <input
        id="q"
        ref={input}
        data-query-box
        class={err ? 'invalid' : ''}
        type="search"
        spellcheck={false}
        autocomplete="off"
        aria-invalid={err ? 'true' : 'false'}
        aria-describedby={err ? 'q-error' : undefined}
        placeholder={props.placeholder ?? 'service:api level:>=warn timeout   (Enter to search, / to focus)'}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') props.onSubmit(text.trim());
          if (e.key === 'Escape') {
            setText('');
            props.onSubmit('');
          }
        }}
      />
      {err && (
        <div id="q-error" class="query-error" role="alert">
          {err.position !== undefined && (
            <pre class="caret" aria-hidden="true">
              {text}
              {'\n'}
              {' '.repeat(Math.max(0, err.position))}^
            </pre>
          )}
          <span>{err.message}</span>
        </div>
      )}
    </div>
  );
}
