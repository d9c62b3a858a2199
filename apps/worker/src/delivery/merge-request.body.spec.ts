import { JobResultBuilder } from '../jobs/job-result.builder';
import type { PolicyDecision } from '../jobs/governance/policy-decisions';
import { type ChangedFile, MAX_BODY_CHARS, MAX_TITLE_CHARS, type MergeRequestFacts, mergeRequestBody, mergeRequestText, mergeRequestTitle, parseNumstat } from './merge-request.body';

const JOB = '0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b';

function facts(overrides: Partial<MergeRequestFacts> = {}): MergeRequestFacts {
  const verification = {
    ...new JobResultBuilder(JOB, 2).verification,
    testsRan: true,
    baseTestsRan: true,
    baseTestExitCode: 1,
    baseReportRead: true,
    reportRead: true,
    testsBefore: 12,
    failingBefore: 2,
    testsAfter: 13,
    failingAfter: 0,
    testsFixed: 2,
    reproductionAdded: true,
  };
  return {
    jobId: JOB,
    attempt: 2,
    ticket: { title: 'Fix add in calculator', description: 'add returns the difference\nof a and b.' },
    files: [
      { path: 'src/calculator.js', added: 1, removed: 1 },
      { path: 'docs/diagram.png', added: undefined, removed: undefined },
    ],
    verification,
    decisions: [{ rule: 'max-lines-changed', level: 'advisory', outcome: 'recorded', policy: 'enforced', detail: '3 lines changed, more than 2' }],
    ...overrides,
  };
}

describe('merge request title', () => {
  it("is the ticket's title on one line, cut to the bound, or 'Airlock change' without one", () => {
    expect(mergeRequestTitle('  Fix add\nin\tcalculator\u001b[31m ')).toBe('Fix add in calculator [31m');
    expect(mergeRequestTitle(' \n ')).toBe('Airlock change');
    const long = mergeRequestTitle('x'.repeat(500));
    expect(long).toHaveLength(MAX_TITLE_CHARS);
    expect(long.endsWith('…')).toBe(true);
  });

  it('never splits a surrogate pair when it cuts', () => {
    const title = mergeRequestTitle(`${'x'.repeat(MAX_TITLE_CHARS - 2)}😀😀`);
    expect(title).toBe(`${'x'.repeat(MAX_TITLE_CHARS - 2)}…`);
  });
});

describe('parseNumstat', () => {
  it('reads `git diff --numstat -z`: counts, binary files, and paths with tabs or newlines', () => {
    const output = ['1\t1\tsrc/calculator.js', '-\t-\tdocs/diagram.png', '3\t0\tnotes/a\tb\nc.md', ''].join('\0');
    expect(parseNumstat(output)).toEqual<ChangedFile[]>([
      { path: 'src/calculator.js', added: 1, removed: 1 },
      { path: 'docs/diagram.png', added: undefined, removed: undefined },
      { path: 'notes/a\tb\nc.md', added: 3, removed: 0 },
    ]);
  });
});

describe('merge request body', () => {
  it('holds the ticket, the files changed with their lines, the tests before and after, the policy decisions, and the job line last', () => {
    const { title, body } = mergeRequestText(facts());
    expect(title).toBe('Fix add in calculator');
    expect(body).toBe(
      [
        '## Ticket',
        '',
        '**Fix add in calculator**',
        '',
        '> add returns the difference',
        '> of a and b.',
        '',
        '## Change',
        '',
        '2 files changed, +1 -1:',
        '',
        '- `src/calculator.js` +1 -1',
        '- `docs/diagram.png` (binary)',
        '',
        '## Tests',
        '',
        '| | at the base commit | with the change |',
        '| --- | --- | --- |',
        '| exit code of the test command | 1 | 0 |',
        '| tests run | 12 | 13 |',
        '| tests failing | 2 | 0 |',
        '',
        'Tests fixed: 2. Tests regressed: 0. Reproduction test added: yes.',
        '',
        '## Policy',
        '',
        '- `max-lines-changed` (advisory, recorded): 3 lines changed, more than 2',
        '',
        '---',
        `Airlock job ${JOB}, attempt 2`,
        '',
      ].join('\n'),
    );
  });

  it('says what it does not know: no description, tests that did not run or left no report, no rule fired', () => {
    const verification = { ...new JobResultBuilder(JOB, 1).verification, baseTestsRan: true, baseTestExitCode: 1 };
    const body = mergeRequestBody(facts({ ticket: { title: '', description: '' }, verification, decisions: [] }));
    expect(body).toContain('**Airlock change**\n\n_The ticket has no description._');
    expect(body).toContain('| exit code of the test command | 1 | did not run |');
    expect(body).toContain('| tests run | no report | no report |');
    expect(body).toContain('## Policy\n\nNo policy rule fired.');
  });

  it('fences a path holding backticks so it stays one code span', () => {
    expect(mergeRequestBody(facts({ files: [{ path: 'a`b``c.js', added: 2, removed: 0 }] }))).toContain('- ``` a`b``c.js ``` +2 -0');
  });

  it('lists at most 50 files, and counts the rest', () => {
    const files = Array.from({ length: 53 }, (_, index) => ({ path: `src/file-${index}.js`, added: 1, removed: 0 }));
    const body = mergeRequestBody(facts({ files }));
    expect(body).toContain('53 files changed, +53 -0:');
    expect(body).toContain('- `src/file-49.js` +1 -0\n- … and 3 more');
    expect(body).not.toContain('src/file-50.js');
  });

  it('stays within MAX_BODY_CHARS whatever the ticket and the decisions hold, with the job line kept last', () => {
    const decisions: PolicyDecision[] = Array.from({ length: 200 }, (_, index) => ({
      rule: 'protected-paths',
      level: 'mandatory',
      outcome: 'shadow-would-block',
      policy: 'shadow',
      detail: `${index}: ${'y'.repeat(2_000)}`,
    }));
    const files = Array.from({ length: 50 }, (_, index) => ({ path: `${'deep/'.repeat(200)}${index}.js`, added: 1, removed: 1 }));
    const body = mergeRequestBody(facts({ ticket: { title: 't', description: 'z'.repeat(100_000) }, files, decisions }));
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(body).toContain('_(cut to fit the merge request)_');
    expect(body.endsWith(`\n---\nAirlock job ${JOB}, attempt 2\n`)).toBe(true);
  });
});
