import { attemptTimelines, type TimelineEvent } from './phase-timeline';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 1, 9, 0, 0, ms)).toISOString();
const event = (type: string, attempt: number | null, phase: string | null, ms: number): TimelineEvent => ({ type, attempt, phase, at: at(ms) });

describe('attemptTimelines', () => {
  it('draws each phase of each attempt from its start to its end', () => {
    const events = [
      event('CREATED', null, null, 0),
      event('DISPATCHED', 1, null, 10),
      event('PHASE_STARTED', 1, 'PHASE_WORKSPACE', 100),
      event('PHASE_COMPLETED', 1, 'PHASE_WORKSPACE', 400),
      event('PHASE_STARTED', 1, 'PHASE_TEST', 400),
      event('PHASE_FAILED', 1, 'PHASE_TEST', 1_100),
      event('PHASE_STARTED', 2, 'PHASE_WORKSPACE', 5_000),
      event('PHASE_COMPLETED', 2, 'PHASE_WORKSPACE', 5_200),
    ];
    expect(attemptTimelines(events, Date.parse(at(9_000)), null)).toEqual([
      {
        attempt: 1,
        spanMs: 1_000,
        phases: [
          { phase: 'PHASE_WORKSPACE', state: 'completed', offsetMs: 0, durationMs: 300 },
          { phase: 'PHASE_TEST', state: 'failed', offsetMs: 300, durationMs: 700 },
        ],
      },
      { attempt: 2, spanMs: 200, phases: [{ phase: 'PHASE_WORKSPACE', state: 'completed', offsetMs: 0, durationMs: 200 }] },
    ]);
  });

  it('runs an open phase of the live attempt up to now; an open phase of an ended attempt was interrupted', () => {
    const events = [event('PHASE_STARTED', 1, 'PHASE_INFERENCE', 0), event('PHASE_STARTED', 2, 'PHASE_INFERENCE', 10_000)];
    const [first, second] = attemptTimelines(events, Date.parse(at(12_500)), 2);
    expect(first?.phases).toEqual([{ phase: 'PHASE_INFERENCE', state: 'interrupted', offsetMs: 0, durationMs: 0 }]);
    expect(second?.phases).toEqual([{ phase: 'PHASE_INFERENCE', state: 'running', offsetMs: 0, durationMs: 2_500 }]);
  });

  it('keeps an end whose start was never recorded, as an instant', () => {
    const [only] = attemptTimelines([event('PHASE_COMPLETED', 1, 'PHASE_APPLY', 50)], 0, null);
    expect(only?.phases).toEqual([{ phase: 'PHASE_APPLY', state: 'completed', offsetMs: 0, durationMs: 0 }]);
  });
});
