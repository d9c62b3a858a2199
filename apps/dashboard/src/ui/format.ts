const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A time in the browser's zone, sortable and dense: 2026-12-01 09:30:12. Empty input gives "—". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A duration as an operator reads it: 850 ms, 12.3 s, 4 min 05 s, 2 h 07 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.round(ms / 1_000);
  if (totalSeconds < 3_600) return `${Math.floor(totalSeconds / 60)} min ${pad(totalSeconds % 60)} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${pad(totalMinutes % 60)} min`;
}

/** A count with thousands grouped: 12,345. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** An enum name as words: PHASE_INFERENCE → Inference, TESTS_FAILED → Tests failed. */
export function humanize(name: string, prefix = ''): string {
  const words = (name.startsWith(prefix) ? name.slice(prefix.length) : name).toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The first block of a UUID, enough to tell ids apart in a table. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

const RELATIVE_STEPS: ReadonlyArray<{ readonly limitMs: number; readonly unitMs: number; readonly unit: string }> = [
  { limitMs: 60_000, unitMs: 1_000, unit: 's' },
  { limitMs: 3_600_000, unitMs: 60_000, unit: 'min' },
  { limitMs: 2 * 86_400_000, unitMs: 3_600_000, unit: 'h' },
  { limitMs: Number.POSITIVE_INFINITY, unitMs: 86_400_000, unit: 'days' },
];

/**
 * How long ago (or from now) an instant is, as a person glances at it: "just now", "45 s ago",
 * "12 min ago", "3 h ago", "4 days ago", "in 15 min". Rounded down, so "1 min ago" means at
 * least a full minute. Empty or unreadable input gives "—".
 */
export function formatRelative(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '—';
  const distance = Math.abs(nowMs - at);
  if (distance < 5_000) return 'just now';
  const step = RELATIVE_STEPS.find((candidate) => distance < candidate.limitMs) ?? RELATIVE_STEPS[RELATIVE_STEPS.length - 1];
  if (!step) return '—';
  const amount = `${Math.floor(distance / step.unitMs)} ${step.unit}`;
  return at <= nowMs ? `${amount} ago` : `in ${amount}`;
}
