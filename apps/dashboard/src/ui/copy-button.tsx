import { useEffect, useRef, useState, type ReactNode } from 'react';

type CopyState = 'idle' | 'copied' | 'failed';

// Long enough to read, short enough that a second copy announces again.
const CONFIRMATION_MS = 4_000;

/**
 * Copies `text` to the clipboard and says so. The clipboard API exists only on secure origins
 * (https, or localhost): elsewhere, or when the browser refuses, it says to copy by hand —
 * whatever it copies is always shown beside it as selectable text.
 */
export function CopyButton({ text, label, className = 'secondary' }: { readonly text: string; readonly label: ReactNode; readonly className?: string }) {
  const [state, setState] = useState<CopyState>('idle');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const copy = async () => {
    window.clearTimeout(timer.current);
    try {
      if (!('clipboard' in navigator)) throw new Error('no clipboard on this origin');
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    timer.current = window.setTimeout(() => setState('idle'), CONFIRMATION_MS);
  };

  return (
    <span className="copy-button">
      <button type="button" className={className} onClick={() => void copy()}>
        {label}
      </button>
      <span role="status" className={state === 'failed' ? 'form-problem' : 'form-success'}>
        {state === 'copied' ? 'Copied.' : state === 'failed' ? 'The browser did not allow copying: select the text and copy it.' : ''}
      </span>
    </span>
  );
}
