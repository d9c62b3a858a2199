import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  DEMO_BROKEN_FIX_TICKET,
  DEMO_HANGING_TESTS_TICKET,
  DEMO_SLOW_TICKET,
  DEMO_REVIEW_COMMENTS,
  DEMO_TICKET,
  type DemoEdit,
  demoBrokenEdits,
  demoFixEdits,
  demoHangingTestsEdits,
  type DemoRepositoryOptions,
} from './demo-repository';

/** How long the slow scenario keeps the model "thinking" before its first answer: the window for crash tests. */
export const SLOW_SCENARIO_LATENCY_MS = 6_000;

/**
 * The sentence the worker opens every review prompt with (REVIEW_PROMPT_OPENING in
 * apps/worker/src/jobs/review/review-prompt.ts): the demo review scenario keys on it, so the
 * two must stay the same. A library cannot import an app, hence the copy.
 */
export const DEMO_REVIEW_PROMPT_OPENING = 'Review the change of this merge request.';

/** One scripted answer: what the inference server's scenario `turns` hold. */
interface Turn {
  readonly content?: string;
  /** Absent for a plain answer: the simulator takes no empty list. */
  readonly tool_calls?: ReadonlyArray<{ readonly name: string; readonly arguments: Record<string, unknown> }>;
  readonly latency_ms?: number;
}

const call = (name: string, args: Record<string, unknown> = {}) => ({ name, arguments: args });
const edits = (changes: readonly DemoEdit[]) => changes.map((edit) => call('edit_file', { path: edit.path, search: edit.search, replace: edit.replace }));

/**
 * Writes the inference server's scenario files for the demo tickets: scripted agent
 * conversations with native tool calls, answered turn by turn. The simulator answers the
 * first scenario (in file-name order) whose `contains` strings all appear in the prompt, so
 * each scenario keys on its ticket's title.
 *
 * - fix: reads the module, edits it, runs the tests, finishes — the loop a real model runs.
 * - slow-fix: the same, its first answer slow (the window for crash and restart tests).
 * - broken-fix: drops the discount and finishes untested: TEST fails it.
 * - hanging-tests: the fix plus a test that never ends, untested, so TEST hangs (cancel tests).
 * - review: a review job of the demo fix's merge request answers DEMO_REVIEW_COMMENTS in a
 *   fenced json block. It comes first: the request's title is the fix ticket's, which the fix
 *   scenario keys on, while no fix prompt holds the review prompt's opening.
 */
export function writeDemoScenarios(dir: string, options: DemoRepositoryOptions): void {
  const fixTurns = (firstLatencyMs: number): Turn[] => [
    { content: 'Reading the billing module first.', tool_calls: [call('read_file', { path: 'src/invoice.js' })], latency_ms: firstLatencyMs },
    { content: 'The discount is added where it must be subtracted.', tool_calls: [...edits(demoFixEdits(options)), call('run_tests')] },
    { tool_calls: [call('finish', { summary: 'invoiceTotal subtracts the discount; the failing test passes.' })] },
  ];
  const review = `Reviewed the change.\n\n\`\`\`json\n${JSON.stringify(DEMO_REVIEW_COMMENTS, null, 2)}\n\`\`\`\n`;
  const scenarios: ReadonlyArray<{ file: string; name: string; contains: string | readonly string[]; turns: Turn[] }> = [
    { file: '05-review.yaml', name: 'review', contains: [DEMO_REVIEW_PROMPT_OPENING, 'src/invoice.js'], turns: [{ content: review }] },
    {
      file: '10-broken-fix.yaml',
      name: 'broken-fix',
      contains: DEMO_BROKEN_FIX_TICKET.title,
      turns: [{ tool_calls: [...edits(demoBrokenEdits(options)), call('finish', { summary: 'Removed the discount.' })] }],
    },
    { file: '20-slow-fix.yaml', name: 'slow-fix', contains: DEMO_SLOW_TICKET.title, turns: fixTurns(SLOW_SCENARIO_LATENCY_MS) },
    {
      file: '25-hanging-tests.yaml',
      name: 'hanging-tests',
      contains: DEMO_HANGING_TESTS_TICKET.title,
      turns: [{ tool_calls: [...edits(demoHangingTestsEdits(options)), call('finish', { summary: 'Fixed, with a ledger test.' })] }],
    },
    { file: '30-fix.yaml', name: 'fix', contains: DEMO_TICKET.title, turns: fixTurns(0) },
  ];
  for (const { file, name, contains, turns } of scenarios) {
    // lineWidth 0: the yaml library folds long lines otherwise, and a folded line in a replace would break the edit.
    writeFileSync(join(dir, file), stringify({ name, match: { contains: typeof contains === 'string' ? [contains] : contains }, turns }, { lineWidth: 0 }));
  }
}
