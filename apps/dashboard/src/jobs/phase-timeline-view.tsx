import { useEffect, useState } from 'react';
import { formatDuration, humanize } from '../ui/format';
import { attemptTimelines, type PhaseState, type TimelineEvent } from './phase-timeline';

const STATE_LABEL: Readonly<Record<PhaseState, string>> = { completed: 'completed', failed: 'failed', running: 'running', interrupted: 'no end reported' };
// A bar never shrinks below this share of its track, so an instant phase stays visible.
const MIN_BAR_PERCENT = 0.6;

/**
 * A horizontal bar per phase of each attempt, placed on the attempt's own time axis. The
 * table carries every fact as text (phase, start offset, duration, state); the bars only
 * draw it. While an attempt runs, its open phase grows once a second.
 */
export function PhaseTimeline({ events, liveAttempt }: { readonly events: readonly TimelineEvent[]; readonly liveAttempt: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (liveAttempt === null) return undefined;
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, [liveAttempt]);

  const timelines = attemptTimelines(events, now, liveAttempt);
  if (timelines.length === 0) return <p className="muted">No phase reported yet.</p>;
  return (
    <>
      {timelines.map((timeline) => (
        <table key={timeline.attempt} className="timeline">
          <caption>
            Attempt {timeline.attempt} <span className="muted">· {formatDuration(timeline.spanMs)}</span>
          </caption>
          <thead className="visually-hidden">
            <tr>
              <th scope="col">Phase</th>
              <th scope="col">Timeline</th>
              <th scope="col">Duration</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {timeline.phases.map((bar, index) => {
              const widthPercent = Math.max(MIN_BAR_PERCENT, (bar.durationMs / timeline.spanMs) * 100);
              const leftPercent = Math.min((bar.offsetMs / timeline.spanMs) * 100, 100 - widthPercent);
              return (
              <tr key={`${bar.phase}-${index}`} data-phase={bar.phase} data-state={bar.state}>
                <th scope="row">{humanize(bar.phase, 'PHASE_')}</th>
                <td className="timeline-track">
                  <span
                    className={`timeline-bar bar-${bar.state}`}
                    style={{ left: `${leftPercent}%`, width: `${widthPercent}%` }}
                    title={`starts ${formatDuration(bar.offsetMs)} into the attempt`}
                  />
                </td>
                <td className="numeric nowrap">{formatDuration(bar.durationMs)}</td>
                <td className={`phase-state state-${bar.state}`}>{STATE_LABEL[bar.state]}</td>
              </tr>
              );
            })}
          </tbody>
        </table>
      ))}
    </>
  );
}
