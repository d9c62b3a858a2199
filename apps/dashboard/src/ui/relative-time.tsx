import { useEffect, useState } from 'react';
import { formatRelative, formatTime } from './format';

// Relative times are shown to the minute or coarser once past the first minute: a tick every
// 15 s keeps them right without re-rendering tables every second.
const TICK_MS = 15_000;

/** The current time, refreshed every `intervalMs`, for views that say "3 min ago". */
export function useNow(intervalMs = TICK_MS): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * An instant as "3 min ago" (or "in 15 min"), with the exact time in its tooltip. The tooltip
 * is for the mouse; the exact time is also in the text, hidden from view, so a screen reader
 * and the keyboard-only user get it too.
 */
export function RelativeTime({ iso, now }: { readonly iso: string | null | undefined; readonly now: number }) {
  if (!iso) return <span>—</span>;
  const exact = formatTime(iso);
  return (
    <time dateTime={iso} title={exact} className="nowrap">
      {formatRelative(iso, now)}
      <span className="visually-hidden"> ({exact})</span>
    </time>
  );
}
