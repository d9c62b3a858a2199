/**
 * The metadata-only result of a job as the dashboard shows it. The API types it as a plain
 * object (its fields grew over releases: policy, metadataLevel, modelUsage and review are absent on
 * older results, and a worker at the MINIMAL metadata level reports less), so each field is
 * read for what it is, and a missing one is shown as missing rather than as zero.
 */
export interface JobResultView {
  readonly outcome: string | null;
  readonly failedPhase: string | null;
  readonly metadataLevel: string | null;
  readonly tokens: { readonly requests: number; readonly promptTokens: number; readonly completionTokens: number } | null;
  readonly change: {
    readonly filesChanged: number;
    readonly linesAdded: number;
    readonly linesRemoved: number;
    readonly editsProposed: number;
    readonly editsApplied: number;
  } | null;
  readonly verification: VerificationView | null;
  readonly contextFiles: number | null;
  readonly policy: { readonly revision: number; readonly shadowRevision: number; readonly rules: readonly RuleDecisionCount[] } | null;
  readonly modelUsage: readonly ModelUsageView[];
  /** Where the change went (BRANCH, MERGE_REQUEST_OPENED, MERGE_REQUEST_UPDATED, OUTBOX); null when nothing was delivered, or not reported. */
  readonly delivery: string | null;
  /** A review's comments by severity; null for other kinds, at the MINIMAL metadata level, and when the review posted nothing. */
  readonly review: ReviewCountsView | null;
}

/** The comments a review posted, by the severity the model gave them, and those the worker did not post. */
export interface ReviewCountsView {
  readonly critical: number;
  readonly major: number;
  readonly minor: number;
  readonly info: number;
  readonly dropped: number;
}

export interface VerificationView {
  readonly baseTestsRan: boolean;
  readonly testsRan: boolean;
  readonly testsBefore: number;
  readonly failingBefore: number;
  readonly testsAfter: number;
  readonly failingAfter: number;
  readonly testsFixed: number;
  readonly testsRegressed: number;
  readonly agentTestRuns: number;
  readonly reproductionAdded: boolean;
}

/** How often one rule fired with one level and outcome. */
export interface RuleDecisionCount {
  readonly rule: string;
  readonly level: string;
  readonly outcome: string;
  readonly count: number;
}

export interface ModelUsageView {
  readonly endpoint: string;
  readonly model: string;
  readonly endpointIndex: number;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

type Fields = Readonly<Record<string, unknown>>;

function record(value: unknown): Fields | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : null;
}

function numbers<Key extends string>(value: unknown, keys: readonly Key[]): Record<Key, number> | null {
  const fields = record(value);
  if (!fields) return null;
  const picked: Partial<Record<Key, number>> = {};
  for (const key of keys) {
    const field = fields[key];
    if (typeof field !== 'number' || !Number.isFinite(field)) return null;
    picked[key] = field;
  }
  return picked as Record<Key, number>;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function verificationOf(value: unknown): VerificationView | null {
  const fields = record(value);
  const counts = numbers(value, ['testsBefore', 'failingBefore', 'testsAfter', 'failingAfter', 'testsFixed', 'testsRegressed', 'agentTestRuns'] as const);
  if (!fields || !counts) return null;
  return { ...counts, baseTestsRan: fields['baseTestsRan'] === true, testsRan: fields['testsRan'] === true, reproductionAdded: fields['reproductionAdded'] === true };
}

function policyOf(value: unknown): JobResultView['policy'] {
  const fields = record(value);
  const revisions = numbers(value, ['revision', 'shadowRevision'] as const);
  if (!fields || !revisions) return null;
  const counts = new Map<string, RuleDecisionCount>();
  for (const decision of Array.isArray(fields['decisions']) ? fields['decisions'] : []) {
    const rule = text(record(decision)?.['rule']);
    if (rule === null) continue;
    const level = text(record(decision)?.['level']) ?? 'UNKNOWN';
    const outcome = text(record(decision)?.['outcome']) ?? 'UNKNOWN';
    const key = `${rule}\u0000${level}\u0000${outcome}`;
    const seen = counts.get(key);
    counts.set(key, { rule, level, outcome, count: (seen?.count ?? 0) + 1 });
  }
  const rules = [...counts.values()].sort((a, b) => a.rule.localeCompare(b.rule) || a.outcome.localeCompare(b.outcome));
  return { ...revisions, rules };
}

function modelUsageOf(value: unknown): ModelUsageView[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) => {
    const fields = record(entry);
    const counts = numbers(entry, ['endpointIndex', 'requests', 'promptTokens', 'completionTokens'] as const);
    const endpoint = text(fields?.['endpoint']);
    const model = text(fields?.['model']);
    return counts && endpoint !== null && model !== null ? [{ ...counts, endpoint, model }] : [];
  });
}

export function readJobResult(result: unknown): JobResultView | null {
  const fields = record(result);
  if (!fields) return null;
  const contextFiles = fields['contextFiles'];
  return {
    outcome: text(fields['outcome']),
    failedPhase: text(fields['failedPhase']),
    metadataLevel: text(fields['metadataLevel']),
    tokens: numbers(fields['tokens'], ['requests', 'promptTokens', 'completionTokens'] as const),
    change: numbers(fields['change'], ['filesChanged', 'linesAdded', 'linesRemoved', 'editsProposed', 'editsApplied'] as const),
    verification: verificationOf(fields['verification']),
    contextFiles: typeof contextFiles === 'number' ? contextFiles : null,
    policy: policyOf(fields['policy']),
    modelUsage: modelUsageOf(fields['modelUsage']),
    delivery: text(fields['delivery']),
    review: numbers(fields['review'], ['critical', 'major', 'minor', 'info', 'dropped'] as const),
  };
}

/** A review's counts as the job page lists them: the comments posted, most severe first, then those not posted. */
export function reviewFigures(review: ReviewCountsView): readonly { readonly label: string; readonly value: number; readonly posted: boolean }[] {
  return [
    { label: 'Critical', value: review.critical, posted: true },
    { label: 'Major', value: review.major, posted: true },
    { label: 'Minor', value: review.minor, posted: true },
    { label: 'Info', value: review.info, posted: true },
    { label: 'Not posted', value: review.dropped, posted: false },
  ];
}
