/** The slice of a job event the timeline reads. */
export interface TimelineEvent {
  readonly type: string;
  readonly attempt?: number | null;
  readonly phase?: string | null;
  readonly at: string;
}

export type PhaseState = 'completed' | 'failed' | 'running' | 'interrupted';

export interface PhaseBar {
  readonly phase: string;
  readonly state: PhaseState;
  /** Milliseconds from the attempt's first phase start. */
  readonly offsetMs: number;
  readonly durationMs: number;
}

export interface AttemptTimeline {
  readonly attempt: number;
  /** From the first phase start to the last phase end (or now, while a phase runs). */
  readonly spanMs: number;
  readonly phases: readonly PhaseBar[];
}

const PHASE_END_STATES: Readonly<Record<string, PhaseState>> = { PHASE_COMPLETED: 'completed', PHASE_FAILED: 'failed' };

/**
 * One horizontal bar per phase of each attempt, from the PHASE_STARTED / PHASE_COMPLETED /
 * PHASE_FAILED events as the control plane recorded them. A phase with no end is running
 * (to `now`) while the attempt is `live`, and was interrupted otherwise (its worker stopped
 * reporting: a crash, a lost lease, a cancel).
 */
export function attemptTimelines(events: readonly TimelineEvent[], now: number, liveAttempt: number | null): AttemptTimeline[] {
  const byAttempt = new Map<number, { start: number; bars: { phase: string; start: number; end: number | null; state: PhaseState | null }[] }>();
  for (const event of events) {
    if (event.attempt === null || event.attempt === undefined || event.phase === null || event.phase === undefined) continue;
    const at = Date.parse(event.at);
    if (Number.isNaN(at)) continue;
    const attempt = byAttempt.get(event.attempt) ?? { start: at, bars: [] };
    byAttempt.set(event.attempt, attempt);
    if (event.type === 'PHASE_STARTED') {
      attempt.start = Math.min(attempt.start, at);
      attempt.bars.push({ phase: event.phase, start: at, end: null, state: null });
      continue;
    }
    const endState = PHASE_END_STATES[event.type];
    if (!endState) continue;
    const open = [...attempt.bars].reverse().find((bar) => bar.phase === event.phase && bar.end === null);
    // An end without a recorded start: drawn as an instant, so it is not lost.
    if (open) Object.assign(open, { end: at, state: endState });
    else attempt.bars.push({ phase: event.phase, start: at, end: at, state: endState });
  }
  return [...byAttempt.entries()]
    .sort(([a], [b]) => a - b)
    .map(([attempt, { start, bars }]) => {
      const running = attempt === liveAttempt;
      const phases = bars.map((bar): PhaseBar => {
        const end = bar.end ?? (running ? Math.max(now, bar.start) : bar.start);
        return { phase: bar.phase, state: bar.state ?? (running ? 'running' : 'interrupted'), offsetMs: bar.start - start, durationMs: end - bar.start };
      });
      const spanMs = Math.max(1, ...phases.map((phase) => phase.offsetMs + phase.durationMs));
      return { attempt, spanMs, phases };
    });
}
