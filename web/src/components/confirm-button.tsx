// A destructive button that asks first, inline: keyboard-friendly, and
// nothing modal to dismiss. Revoking a token, deleting an alert rule.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import '../views/admin.css';

export function ConfirmButton(props: { label: string; name: string; question: string; confirm: string; onConfirm: () => Promise<void> | void }) {
  const [asking, setAsking] = useState(false);
  const ask = useRef<HTMLButtonElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  // Focus follows the question and comes back when it is dismissed, so the keyboard never loses its place.
  // (A layout effect: focus moves in the same frame, before a key press can land elsewhere.)
  const back = useRef(false);
  useLayoutEffect(() => {
    if (asking) cancel.current?.focus();
    else if (back.current) ask.current?.focus();
    back.current = false;
  }, [asking]);
  const dismiss = () => {
    back.current = true;
    setAsking(false);
  };
  if (!asking)
    return (
      <button type="button" class="secondary" ref={ask} aria-label={`${props.label} ${props.name}`} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="adm-confirm" role="group" aria-label={props.question} onKeyDown={(e) => e.key === 'Escape' && dismiss()}>
      <span>{props.question}</span>
      <button
        type="button"
        class="danger"
        onClick={async () => {
          await props.onConfirm();
          setAsking(false);
        }}
      >
        {props.confirm}
      </button>
      <button type="button" class="secondary" ref={cancel} onClick={dismiss}>
        Cancel
      </button>
    </span>
  );
}
