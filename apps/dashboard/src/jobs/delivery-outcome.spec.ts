import type { Schemas } from '../api/client';
import { formatWait, readDeliveryOutcome } from './delivery-outcome';

const JOB_ID = '11111111-1111-4111-8111-111111111111';

const merged: Schemas['DeliveryOutcomeResponse'] = {
  deliveryJobId: JOB_ID,
  state: 'MERGED',
  humanCommits: 3,
  reverted: false,
  firstReviewAfterS: 5_400,
  reviewRounds: 2,
  mergedAfterS: 2 * 86_400 + 3 * 3_600,
  final: true,
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  workerId: '22222222-2222-4222-8222-222222222222',
  firstReportedAt: '2026-12-01T10:00:00Z',
  updatedAt: '2026-12-03T10:00:00Z',
};

const valueOf = (outcome: Schemas['DeliveryOutcomeResponse'], label: string, jobId = JOB_ID) =>
  readDeliveryOutcome(outcome, jobId).figures.find((figure) => figure.label === label)?.value;

describe('readDeliveryOutcome', () => {
  it('shows exact figures as reported', () => {
    const view = readDeliveryOutcome(merged, JOB_ID);
    expect(view.figures).toEqual([
      { label: 'State', value: 'Merged' },
      { label: "People's commits", value: '3' },
      { label: 'Reverted', value: 'no' },
      { label: 'First review by a person', value: '1 h 30 min after opening' },
      { label: 'Review rounds', value: '2' },
      { label: 'Time to merge', value: '2 d 03 h after opening' },
    ]);
    expect(view).toMatchObject({ final: true, levelNote: null, chainFirstJobId: null });
  });

  it('says a request is not merged, not reviewed yet, and whose chain it is when shown on a re-run', () => {
    const open = { ...merged, state: 'OPEN' as const, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, final: false };
    expect(valueOf(open, 'First review by a person')).toBe('none yet');
    // A review in the very first second is a review: the rounds say so, not the wait.
    expect(valueOf({ ...open, reviewRounds: 1 }, 'First review by a person')).toBe('under a second after opening');
    expect(valueOf(open, 'Time to merge')).toBe('not merged');
    expect(valueOf(open, 'Reverted')).toBe('not merged');
    expect(valueOf({ ...merged, reverted: true }, 'Reverted')).toBe('yes, on its target branch');
    expect(readDeliveryOutcome(open, '33333333-3333-4333-8333-333333333333').chainFirstJobId).toBe(JOB_ID);
  });

  it('shows what the minimal level does not send as not reported, never as zero', () => {
    const minimal = { ...merged, humanCommits: 0, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, metadataLevel: 'METADATA_LEVEL_MINIMAL' as const };
    const view = readDeliveryOutcome(minimal, JOB_ID);
    expect(view.figures.map((figure) => figure.value)).toEqual(['Merged', 'not reported at the minimal level', 'no', 'not reported at the minimal level', 'not reported at the minimal level', 'not reported at the minimal level']);
    expect(view.levelNote).toMatch(/minimal metadata level/);
  });

  it('shows bucketed counts as the range they stand for, and a zero time as under an hour', () => {
    const bucketed = { ...merged, humanCommits: 4, reviewRounds: 1, firstReviewAfterS: 0, mergedAfterS: 0, metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED' as const };
    expect(valueOf(bucketed, "People's commits")).toBe('4–7');
    expect(valueOf(bucketed, 'Review rounds')).toBe('1');
    expect(valueOf(bucketed, 'First review by a person')).toBe('within the first hour');
    expect(valueOf({ ...bucketed, reviewRounds: 0 }, 'First review by a person')).toBe('none yet');
    expect(valueOf(bucketed, 'Time to merge')).toBe('within the first hour');
    expect(readDeliveryOutcome(bucketed, JOB_ID).levelNote).toMatch(/rounded down/);
  });
});

describe('formatWait', () => {
  it('reads minutes and hours like other durations, and days past one day', () => {
    expect(formatWait(2_700)).toBe('45 min 00 s');
    expect(formatWait(19_800)).toBe('5 h 30 min');
    expect(formatWait(86_400)).toBe('1 d 00 h');
  });
});
