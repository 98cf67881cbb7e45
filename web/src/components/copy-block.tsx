// A block of text to copy in one click: a new token and its ready setups
// (Sources), a rule's generated signing secrets (Alerts). Both are shown
// once, so copying must work even where the clipboard is refused.
import { useRef, useState } from 'preact/hooks';
import { copyText } from '../format';
import '../views/admin.css';

/** When the clipboard is refused, the text is selected for Ctrl+C instead. */
export function CopyBlock(props: { title: string; text: string }) {
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <div class="snippet">
      <div class="snippet-head">
        <h4>{props.title}</h4>
        <button
          type="button"
          class="secondary"
          aria-label={`${copied ? 'Copied' : 'Copy'} ${props.title}`}
          onClick={async () => {
            const ok = await copyText(props.text);
            setCopied(ok);
            if (!ok && pre.current) getSelection()?.selectAllChildren(pre.current);
          }}
        >
          {copied === null ? 'Copy' : copied ? 'Copied' : 'Press Ctrl+C'}
        </button>
      </div>
      <pre ref={pre} data-snippet={props.title}>
        {props.text}
      </pre>
    </div>
  );
}
