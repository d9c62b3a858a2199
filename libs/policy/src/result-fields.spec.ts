import { randomBytes, randomUUID } from 'node:crypto';
import type { JobResult__Output } from '@airlock/protocol';
import { applyMetadataLevel } from './metadata-level';
import { METADATA_SETTING_OF_LEVEL, REPORTED_METADATA_LEVELS, describeResultFields, type ResultFieldDescription } from './result-fields';

/** A result with every field filled in; typed, so a field added to JobResult must be added here too. */
const fullResult = (): JobResult__Output => ({
  attempt: { jobId: randomUUID(), attempt: 3 },
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  failureCode: 'LEASE_UNCONFIRMED',
  failedPhase: 'PHASE_TEST',
  phaseDurations: [{ phase: 'PHASE_INFERENCE', durationMs: 12_345 }],
  tokens: { requests: 7, promptTokens: 48_213, completionTokens: 1_025 },
  change: { filesChanged: 3, linesAdded: 41, linesRemoved: 9, editsProposed: 6, editsApplied: 5 },
  verification: {
    testsRan: true, testExitCode: 2, baseTestsRan: true, baseTestExitCode: 2, baseReportRead: true, reportRead: true,
    testsBefore: 130, failingBefore: 3, testsAfter: 131, failingAfter: 1, testsFixed: 3, testsRegressed: 1, agentTestRuns: 5, reproductionAdded: true,
  },
  contextFiles: 17,
  changeMac: randomBytes(32),
  deliveryMac: randomBytes(32),
  policy: { revision: 4, shadowRevision: 5, decisions: [{ rule: 'RULE_MAX_LINES_CHANGED', level: 'RULE_LEVEL_ADVISORY', outcome: 'RULE_OUTCOME_RECORDED' }] },
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  review: { critical: 1, major: 3, minor: 5, info: 9, dropped: 2 },
  ticketRefMac: Buffer.alloc(32, 0x5c),
  delivery: 'DELIVERY_OUTBOX',
  modelUsage: [{ endpointIndex: 1, endpoint: 'fallback', model: 'qwen2.5-coder:32b', requests: 3, promptTokens: 20_011, completionTokens: 513 }],
});

/** The value at a described field's path; `[]` reads the first entry. */
function read(result: unknown, field: string): unknown {
  let node = result;
  for (const step of field.replaceAll('[]', '.[]').split('.')) {
    if (node === null || node === undefined) return undefined;
    node = step === '[]' ? (node as unknown[])[0] : (node as Record<string, unknown>)[step];
  }
  return node;
}

/** Every leaf path of a result, as describeResultFields spells them. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return leafPaths(value[0], `${prefix}[]`);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.entries(value).flatMap(([key, member]) => leafPaths(member, prefix ? `${prefix}.${key}` : key));
  }
  return [prefix];
}

// An enum at its zero value (`…_UNSPECIFIED`) is empty, as proto3 encodes it: not at all.
const isEmpty = (value: unknown) =>
  value === undefined ||
  value === null ||
  value === 0 ||
  value === false ||
  value === '' ||
  (typeof value === 'string' && value.endsWith('_UNSPECIFIED')) ||
  (Buffer.isBuffer(value) && value.length === 0);

const byField = (fields: readonly ResultFieldDescription[]) => Object.fromEntries(fields.map((entry) => [entry.field, entry]));

describe('describeResultFields', () => {
  it.each(REPORTED_METADATA_LEVELS)('%s: lists every field of JobResult, each once', (level) => {
    const fields = describeResultFields(level).map((entry) => entry.field);
    expect([...fields].sort()).toEqual(leafPaths(fullResult()).sort());
    expect(new Set(fields).size).toBe(fields.length);
  });

  it.each(REPORTED_METADATA_LEVELS)('%s: every field it says is not sent is empty once applyMetadataLevel ran on a full result, and every other one is not', (level) => {
    const full = fullResult();
    const applied = applyMetadataLevel(full, METADATA_SETTING_OF_LEVEL[level]);
    for (const entry of describeResultFields(level)) {
      expect({ field: entry.field, empty: isEmpty(read(applied, entry.field)) }).toEqual({ field: entry.field, empty: !entry.sent });
    }
    expect(applied.metadataLevel).toBe(level);
  });

  it('minimal sends the outcome, codes, rounded durations and the policy report, and nothing of tokens, change, verification, context or MACs', () => {
    const fields = describeResultFields('METADATA_LEVEL_MINIMAL');
    expect(fields.filter((entry) => entry.sent).map((entry) => entry.field)).toEqual([
      'attempt.jobId',
      'attempt.attempt',
      'outcome',
      'failureCode',
      'failedPhase',
      'phaseDurations[].phase',
      'phaseDurations[].durationMs',
      'policy.revision',
      'policy.shadowRevision',
      'policy.decisions[].rule',
      'policy.decisions[].level',
      'policy.decisions[].outcome',
      'metadataLevel',
    ]);
    expect(byField(fields)['tokens.promptTokens']).toEqual({ field: 'tokens.promptTokens', type: 'uint32', sent: false, treatment: 'NOT_SENT', note: 'Left empty at this level.' });
    expect(byField(fields)['phaseDurations[].durationMs']).toMatchObject({ sent: true, treatment: 'ROUNDED_100_MS' });
    expect(byField(fields)['metadataLevel']).toMatchObject({ type: 'enum MetadataLevel', treatment: 'FIXED', note: 'Always METADATA_LEVEL_MINIMAL at this level.' });
  });

  it('standard sends every field as measured', () => {
    const fields = describeResultFields('METADATA_LEVEL_STANDARD');
    expect(fields.filter((entry) => entry.field !== 'metadataLevel').every((entry) => entry.treatment === 'EXACT')).toBe(true);
    expect(byField(fields)['changeMac']).toMatchObject({ type: 'bytes', sent: true, note: 'Sent as measured.' });
  });

  it('standard with buckets names how each figure is rounded', () => {
    const fields = byField(describeResultFields('METADATA_LEVEL_STANDARD_BUCKETED'));
    expect(fields['tokens.promptTokens']).toMatchObject({ sent: true, treatment: 'POWER_OF_TWO', note: 'Rounded down to 0 or a power of two.' });
    expect(fields['verification.testExitCode']).toMatchObject({ treatment: 'ZERO_OR_ONE' });
    expect(fields['verification.testsRan']).toMatchObject({ type: 'bool', treatment: 'EXACT' });
    expect(fields['phaseDurations[].durationMs']).toMatchObject({ treatment: 'ROUNDED_100_MS' });
    expect(fields['outcome']).toMatchObject({ type: 'enum JobOutcome', treatment: 'EXACT' });
    expect(fields['modelUsage[].model']).toMatchObject({ type: 'string', treatment: 'EXACT' });
    expect(fields['modelUsage[].promptTokens']).toMatchObject({ treatment: 'POWER_OF_TWO' });
    expect(Object.values(fields).some((entry) => entry.treatment === 'ALTERED')).toBe(false);
  });
});
