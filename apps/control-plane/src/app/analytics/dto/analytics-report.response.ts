import { ApiProperty } from '@nestjs/swagger';
import { JOB_KINDS, type JobKindName } from '../../jobs/dto/create-job.dto';

/**
 * The analytics report: every figure docs/analytics.md describes, for one range and filter.
 * Money is in `currency`, rounded to 4 decimals; hours to 2; rates (0..1) to 4.
 */

export const ATTRIBUTIONS = ['creation-day', 'finish-day', 'slot-time-day'] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];
const ATTRIBUTION = { enum: ATTRIBUTIONS, enumName: 'AnalyticsAttribution' } as const;

export const FLEET_FILTERS = ['pool'] as const;

export class AnalyticsRangeResponse {
  @ApiProperty({ format: 'date', example: '2026-11-01', description: 'First UTC day' }) from!: string;
  @ApiProperty({ format: 'date', example: '2026-11-30', description: 'Last UTC day, included' }) to!: string;
  @ApiProperty({ example: 30, description: 'Days in the range' }) days!: number;
}

export class AnalyticsFiltersResponse {
  @ApiProperty({ type: String, nullable: true }) repoAlias!: string | null;
  @ApiProperty({ type: String, nullable: true }) pool!: string | null;
  @ApiProperty({ enum: JOB_KINDS, enumName: 'JobKind', nullable: true }) kind!: JobKindName | null;
}

export class LeftOutResponse {
  @ApiProperty({ description: 'Jobs created in the range whose result is implausible: in no creation-day figure' }) implausibleCreated!: number;
  @ApiProperty({ description: 'Jobs finished in the range whose result is implausible: in no finish-day figure' }) implausibleFinished!: number;
}

export class FunnelResponse {
  @ApiProperty({
    ...ATTRIBUTION,
    description:
      'Each job counts on the UTC day it was created, at the furthest stage it reached. Fix and noop jobs: review and index jobs deliver no change by design and count here only when the kind filter asks for them',
  })
  attribution!: Attribution;
  @ApiProperty({ description: 'Jobs created (with a pool filter: only jobs a worker of that pool took)' }) created!: number;
  @ApiProperty({ description: 'Of those, jobs an attempt of which reached RUNNING' }) ran!: number;
  @ApiProperty({ description: 'Fix jobs whose tests ran on the change and passed (docs/analytics.md)' }) testsPassed!: number;
  @ApiProperty({ description: 'Fix jobs that succeeded with a delivered change (a no-change result never counts)' }) delivered!: number;
  @ApiProperty({ description: 'Delivered although their tests did not pass: an advisory or switched-off tests-must-pass let them through' })
  deliveredWithoutTestsPassed!: number;
  @ApiProperty({ description: 'Created jobs no worker has run or turned down yet: they have no pool, so a pool filter leaves them out' })
  notYetDispatched!: number;
}

export class SuccessSliceResponse {
  @ApiProperty({ description: 'The repository alias, pool or model; "(other)" for slices merged for being smaller than minimumGroupSize' }) key!: string;
  @ApiProperty({ description: 'Whether this is the merged "(other)" slice' }) other!: boolean;
  @ApiProperty({ description: 'How many slices it stands for (1 unless other)' }) mergedSlices!: number;
  @ApiProperty({ description: 'Jobs created (the slice size minimumGroupSize is compared with)' }) jobs!: number;
  @ApiProperty() ran!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'delivered / ran; null when none ran' }) successRate!: number | null;
}

export class SuccessRateResponse {
  @ApiProperty({ ...ATTRIBUTION, description: 'Of the jobs the funnel counts: review and index jobs only when the kind filter asks for them' }) attribution!: Attribution;
  @ApiProperty() ran!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'delivered / ran; null when none ran' }) successRate!: number | null;
  @ApiProperty({ type: [SuccessSliceResponse] }) byRepository!: SuccessSliceResponse[];
  @ApiProperty({ type: [SuccessSliceResponse], description: '"(not dispatched)": no worker took the job yet; "(none)": its worker has no pool' })
  byPool!: SuccessSliceResponse[];
  @ApiProperty({
    type: [SuccessSliceResponse],
    description: 'By the model that answered most of the job\'s tokens. "(not finished)": known once the job ends; "(no result)": it ended without one; "(unreported)": its result names no model',
  })
  byModel!: SuccessSliceResponse[];
}

export class PercentilesResponse {
  @ApiProperty({ description: 'Durations counted' }) count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Median, milliseconds (within the histogram resolution)' }) p50Ms!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: '90th percentile, milliseconds' }) p90Ms!: number | null;
}

export class PhasePercentilesResponse extends PercentilesResponse {
  @ApiProperty({ example: 'PHASE_TEST' }) phase!: string;
}

export class HistogramResolutionResponse {
  @ApiProperty({ example: 1.1892, description: 'Each bucket spans this factor (2^(1/4))' }) bucketFactor!: number;
  @ApiProperty({ example: 0.0905, description: 'A percentile is within this share of the true value (2^(1/8) − 1)' }) maxRelativeError!: number;
  @ApiProperty({ example: 100, description: 'Durations under this are one bucket, reported as half of it' }) floorMs!: number;
  @ApiProperty({ example: 3355443200, description: 'Durations from this on are one bucket, reported as this' }) ceilingMs!: number;
}

export class TimeResponse {
  @ApiProperty({ ...ATTRIBUTION, description: 'Durations of fix jobs (noop jobs are probes without phases), on the day they finished' }) attribution!: Attribution;
  @ApiProperty({
    description: 'False when the request filters by both repoAlias and pool: durations are kept per repository and per pool, not per pair, so no percentile is given',
  })
  percentilesAvailable!: boolean;
  @ApiProperty({ type: HistogramResolutionResponse }) resolution!: HistogramResolutionResponse;
  @ApiProperty({ type: PercentilesResponse, description: 'Created → delivered, of delivered changes' }) timeToChange!: PercentilesResponse;
  @ApiProperty({ type: PercentilesResponse, description: 'Created → first dispatched to a worker, of finished jobs that were dispatched' }) queueWait!: PercentilesResponse;
  @ApiProperty({ type: [PhasePercentilesResponse], description: 'Per phase the results report, in the order a fix job runs them' }) phases!: PhasePercentilesResponse[];
}

export class ModelUsageSliceResponse {
  @ApiProperty({ description: 'The endpoint\'s name in the worker\'s config; "(unreported)" for results without model usage; "(other)" for merged slices' }) endpoint!: string;
  @ApiProperty({ description: 'The model name; "(unreported)" or "(other)" as for endpoint' }) model!: string;
  @ApiProperty() other!: boolean;
  @ApiProperty() mergedSlices!: number;
  @ApiProperty({ description: 'Jobs that used it' }) jobs!: number;
  @ApiProperty() requests!: number;
  @ApiProperty() promptTokens!: number;
  @ApiProperty() completionTokens!: number;
  @ApiProperty({ description: 'Its tokens at its price' }) cost!: number;
}

export class FallbackResponse {
  @ApiProperty({ description: 'Finished jobs whose result names model usage' }) jobsWithModelUsage!: number;
  @ApiProperty({ description: 'Of those, jobs a fallback endpoint (endpointIndex > 0) answered for' }) jobsWithFallback!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'jobsWithFallback / jobsWithModelUsage' }) rate!: number | null;
}

export class ModelsResponse {
  @ApiProperty({ ...ATTRIBUTION }) attribution!: Attribution;
  @ApiProperty({ type: [ModelUsageSliceResponse] }) usage!: ModelUsageSliceResponse[];
  @ApiProperty({ type: FallbackResponse }) fallback!: FallbackResponse;
}

export class CostResponse {
  @ApiProperty({ ...ATTRIBUTION }) attribution!: Attribution;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ description: 'Tokens of the range at the prices set now' }) total!: number;
  @ApiProperty({ description: 'Jobs that finished in the range' }) jobsFinished!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'total / jobsFinished' }) perJob!: number | null;
  @ApiProperty({ description: 'Changes delivered in the range' }) deliveredChanges!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'total / deliveredChanges' }) perDeliveredChange!: number | null;
  @ApiProperty({ description: 'The tenant price of 1,000 tokens' }) pricePer1kTokens!: number;
  @ApiProperty({ description: 'Models with a price of their own' }) modelPriceOverrides!: number;
}

export class BudgetResponse {
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Per calendar month (UTC); null: none set' }) monthlyBudget!: number | null;
  @ApiProperty({ example: '2026-12', description: 'The current calendar month (UTC). The budget is tenant-wide: filters do not apply' }) month!: string;
  @ApiProperty({ description: 'Spent from the 1st of the month to now' }) spentThisMonth!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'monthlyBudget − spentThisMonth (negative once over); null without a budget' }) remaining!: number | null;
  @ApiProperty({ description: 'Average spend per day over the 7 whole UTC days before today' }) trailing7DayDailySpend!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'remaining / trailing7DayDailySpend, 0 once spent; null without a budget or while nothing is spent' })
  daysLeft!: number | null;
}

export class PolicyRuleSliceResponse {
  @ApiProperty({ example: 'max-files-changed', description: 'The rule id; "(other)" for merged slices' }) rule!: string;
  @ApiProperty() other!: boolean;
  @ApiProperty() mergedSlices!: number;
  @ApiProperty({ description: 'Jobs the rule fired on' }) jobs!: number;
  @ApiProperty({ description: 'Violations at the mandatory level: BLOCKED decisions' }) blockedMandatory!: number;
  @ApiProperty({ description: 'BLOCKED decisions at the advisory level' }) blockedAdvisory!: number;
  @ApiProperty({ description: 'Advisory violations let through (RECORDED)' }) recorded!: number;
  @ApiProperty({ description: 'Corrections: governance feedback the model fixed its change after (CORRECTED)' }) corrected!: number;
  @ApiProperty({ description: 'What a shadow-published version would have stopped (SHADOW_WOULD_BLOCK)' }) shadowWouldBlock!: number;
}

export class PolicyTotalsResponse {
  @ApiProperty() blocked!: number;
  @ApiProperty() recorded!: number;
  @ApiProperty() corrected!: number;
  @ApiProperty() shadowWouldBlock!: number;
}

export class PolicyFrictionResponse {
  @ApiProperty({ ...ATTRIBUTION }) attribution!: Attribution;
  @ApiProperty({ type: [PolicyRuleSliceResponse] }) rules!: PolicyRuleSliceResponse[];
  @ApiProperty({ type: PolicyTotalsResponse }) totals!: PolicyTotalsResponse;
}

export class HoursSavedByKindResponse {
  @ApiProperty({ enum: JOB_KINDS, enumName: 'JobKind', description: 'fix or noop, the kinds a manager sets an assumption for: review and index jobs deliver no change' })
  kind!: JobKindName;
  @ApiProperty() deliveredChanges!: number;
  @ApiProperty({ description: 'The assumption a manager set' }) hoursPerDeliveredChange!: number;
  @ApiProperty() hours!: number;
}

export class HoursSavedResponse {
  @ApiProperty({ ...ATTRIBUTION }) attribution!: Attribution;
  @ApiProperty({ description: 'Estimated engineering hours saved: an assumption times a count, not a measurement' }) hours!: number;
  @ApiProperty() deliveredChanges!: number;
  @ApiProperty({ type: [HoursSavedByKindResponse] }) byKind!: HoursSavedByKindResponse[];
  @ApiProperty({ example: 'fix: 2.5 h per delivered change; noop: 0 h per delivered change (set in the analytics settings)' }) assumption!: string;
}

export class FleetResponse {
  @ApiProperty({ ...ATTRIBUTION }) attribution!: Attribution;
  @ApiProperty({ enum: FLEET_FILTERS, enumName: 'AnalyticsFleetFilter', isArray: true, description: 'The filters that apply: slot time belongs to workers, not to repositories or job kinds' })
  filtersApplied!: (typeof FLEET_FILTERS)[number][];
  @ApiProperty({ description: 'Slot-hours connected workers offered (connected time × capacity)' }) onlineSlotHours!: number;
  @ApiProperty({ description: 'Slot-hours attempts held' }) busySlotHours!: number;
  @ApiProperty({ description: 'Online slot-hours not busy, day by day' }) idleSlotHours!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'busy / online' }) utilisation!: number | null;
}

export class SecondaryResponse {
  @ApiProperty({ description: 'Changes delivered in the range (finish day)' }) deliveredChanges!: number;
  @ApiProperty() linesAdded!: number;
  @ApiProperty() linesRemoved!: number;
  @ApiProperty() filesChanged!: number;
}

export class SecondsPercentilesResponse {
  @ApiProperty({ description: 'Requests the times are taken over' }) count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Median, seconds, as a worker reported it (nearest rank); null when count is 0' }) p50S!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: '90th percentile, seconds (nearest rank); null when count is 0' }) p90S!: number | null;
}

export class MergeRequestsResponse {
  @ApiProperty({ ...ATTRIBUTION, description: "Each re-run chain counts on the UTC day its first job was created; filters apply to that job (its pool as the other figures' pool)" })
  attribution!: Attribution;
  @ApiProperty({ description: 'Chains whose merge request a worker reported on (its last report counts)' }) reported!: number;
  @ApiProperty() open!: number;
  @ApiProperty() merged!: number;
  @ApiProperty({ description: 'Closed without being merged' }) closedUnmerged!: number;
  @ApiProperty({ description: "Merged, then reverted on the target branch within the worker's revert window" }) reverted!: number;
  @ApiProperty({
    description: 'Chains reported at a metadata level that sends counts and durations (the minimal level sends states only): reworkedByPeople and the times count these alone',
  })
  withFigures!: number;
  @ApiProperty({ description: 'Requests people pushed commits of their own onto, reworking the change' }) reworkedByPeople!: number;
  @ApiProperty({ type: SecondsPercentilesResponse, description: 'Opening → first review by a person, over the requests a person reviewed' }) timeToFirstReview!: SecondsPercentilesResponse;
  @ApiProperty({ type: SecondsPercentilesResponse, description: 'Opening → merge, over the merged requests' }) timeToMerge!: SecondsPercentilesResponse;
}

export class ReviewCommentsResponse {
  @ApiProperty() critical!: number;
  @ApiProperty() major!: number;
  @ApiProperty() minor!: number;
  @ApiProperty() info!: number;
}

export class ReviewsResponse {
  @ApiProperty({ ...ATTRIBUTION, description: 'Each review job counts on the UTC day it finished' }) attribution!: Attribution;
  @ApiProperty({ description: 'Review jobs that finished (succeeded, failed or cancelled)' }) finished!: number;
  @ApiProperty({ description: 'Of those, reviews that succeeded: their comments were posted' }) succeeded!: number;
  @ApiProperty({
    description: 'Reviews whose result counted their comments: the minimal metadata level sends none, so the counts below are of these alone',
  })
  withCounts!: number;
  @ApiProperty({
    type: ReviewCommentsResponse,
    description: 'Comments posted on the merge requests, by the severity the model gave them. At standard with buckets each review\'s counts are rounded down to 0 or a power of two, so sums are lower bounds',
  })
  commentsPosted!: ReviewCommentsResponse;
  @ApiProperty({ description: 'Comments the workers did not post: on a line the change does not touch, or past their limit' }) commentsDropped!: number;
}

export class DailyPointResponse {
  @ApiProperty({ format: 'date' }) date!: string;
  @ApiProperty({ description: 'Jobs created that day, of the kinds the funnel counts' }) created!: number;
  @ApiProperty({ description: 'Changes delivered that day' }) delivered!: number;
  @ApiProperty({ description: 'Cost of the tokens of jobs that finished that day' }) cost!: number;
  @ApiProperty() busySlotHours!: number;
  @ApiProperty() idleSlotHours!: number;
}

export class AnalyticsReportResponse {
  @ApiProperty({ type: String, format: 'date-time', description: 'When the figures were read; open connections and attempts count up to it' }) generatedAt!: string;
  @ApiProperty({ type: AnalyticsRangeResponse }) range!: AnalyticsRangeResponse;
  @ApiProperty({ type: AnalyticsFiltersResponse }) filters!: AnalyticsFiltersResponse;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ description: 'Breakdown slices with fewer jobs are merged into "(other)"' }) minimumGroupSize!: number;
  @ApiProperty({ type: LeftOutResponse, description: 'Jobs kept out of every figure because their result is implausible' }) leftOut!: LeftOutResponse;
  @ApiProperty({ type: FunnelResponse }) funnel!: FunnelResponse;
  @ApiProperty({ type: SuccessRateResponse }) successRate!: SuccessRateResponse;
  @ApiProperty({ type: TimeResponse }) time!: TimeResponse;
  @ApiProperty({ type: ModelsResponse }) models!: ModelsResponse;
  @ApiProperty({ type: CostResponse }) cost!: CostResponse;
  @ApiProperty({ type: BudgetResponse }) budget!: BudgetResponse;
  @ApiProperty({ type: PolicyFrictionResponse }) policy!: PolicyFrictionResponse;
  @ApiProperty({ type: HoursSavedResponse }) hoursSaved!: HoursSavedResponse;
  @ApiProperty({ type: FleetResponse }) fleet!: FleetResponse;
  @ApiProperty({ type: SecondaryResponse, description: 'Lines changed: a secondary count, never a measure of value' }) secondary!: SecondaryResponse;
  @ApiProperty({ type: MergeRequestsResponse, description: "What became of the delivered changes' merge requests on the customer's forge, as workers reported it" })
  mergeRequests!: MergeRequestsResponse;
  @ApiProperty({ type: ReviewsResponse, description: 'Review jobs and the comments they posted, as counts by severity' }) reviews!: ReviewsResponse;
  @ApiProperty({ type: [DailyPointResponse], description: 'One point per day of the range, for charts' }) daily!: DailyPointResponse[];
  @ApiProperty({ type: [String], description: 'How this request\'s filters apply to the figures, in words' }) notes!: string[];
}
