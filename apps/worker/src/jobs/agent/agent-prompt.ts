import { type ContextFile, symbolLine } from '@airlock/context-engine';
import { describePolicyForAgent, type EffectivePolicy } from '@airlock/policy';
import type { ContextSelection } from '../context/context-selection';
import type { ConversationMessage } from '../inference/conversation';
import type { SuiteRun } from '../verification/change-verdict';

const SYSTEM_PROMPT = `You are a careful software engineer fixing one ticket in a repository. You work in the repository through tools.

How to work:
1. Understand the ticket. Some files are shown below; read others and search the code as you need.
2. Make the smallest change that fixes the ticket, with edit_file (revert_file undoes your changes to a file).
3. Run the tests with run_tests and fix what fails. If every test passed before your change, add a test that fails without your fix and passes with it: a change nothing shows to be needed is not accepted.
4. Call finish with a short summary.

Rules:
- Paths are relative to the repository root.
- edit_file's search must be lines copied exactly from the file; include enough lines to be unique.
- Never edit files under .git/ or the file .airlock.yml.
- Do not reformat or rewrite code the ticket does not need changed.`;

/** Bounds on what the opening message lists of the base run's failures. */
const MAX_FAILING_LISTED = 20;

/**
 * The opening of the conversation: how to work and the policy the change is held to (so the
 * model does not plan work the policy will refuse), then the ticket, what the tests said
 * before any change, and the code CONTEXT chose.
 */
export function buildAgentPrompt(
  ticket: { readonly title: string; readonly description: string },
  baseline: SuiteRun,
  context: ContextSelection,
  policy: EffectivePolicy,
): ConversationMessage[] {
  const user = [
    `# Ticket: ${ticket.title}`,
    '',
    ticket.description,
    '',
    '# The tests before your change',
    '',
    describeBaseline(baseline),
    '',
    '# Relevant code',
    '',
    describeContext(context),
  ].join('\n');
  return [
    { role: 'system', content: `${SYSTEM_PROMPT}\n\nPolicy of this repository (a change that breaks it is sent back to you, then refused):\n${describePolicyForAgent(policy)}` },
    { role: 'user', content: user },
  ];
}

/**
 * The symbol map, then each file in rank order: whole, or only the stretches that define
 * what the ticket names, each with its line numbers so the model can read around them.
 */
function describeContext(context: ContextSelection): string {
  if (context.files.length === 0 && context.symbols.length === 0) return 'None fitted here: search the code and read files with the tools.';
  const parts = ['Chosen for the ticket, most relevant first. Read any other file with read_file.'];
  if (context.symbols.length > 0) parts.push(['Where the names in the ticket are defined:', ...context.symbols.map((symbol) => symbolLine(symbol))].join('\n'));
  parts.push(...context.files.map(describeFile));
  return parts.join('\n\n');
}

function describeFile(file: ContextFile): string {
  const fenced = (text: string) => `\`\`\`\n${text}${text.endsWith('\n') ? '' : '\n'}\`\`\``;
  const [whole] = file.excerpts;
  if (file.coverage === 'whole-file' && whole !== undefined) return `${file.path}\n${fenced(whole.text)}`;
  const excerpts = file.excerpts.map((excerpt) => `lines ${excerpt.startLine}-${excerpt.endLine}:\n${fenced(excerpt.text)}`);
  return [`${file.path} (only the definitions the ticket names; read_file shows the rest)`, ...excerpts].join('\n');
}

function describeBaseline(run: SuiteRun): string {
  if (run.report === undefined) return run.exitCode === 0 ? 'They all pass.' : `They fail (exit ${run.exitCode}).`;
  const failing = run.report.idsWith('failed');
  if (failing.length === 0) return `All ${run.report.ran} pass.`;
  const listed = failing.slice(0, MAX_FAILING_LISTED).map((id) => `- ${id}`);
  if (failing.length > MAX_FAILING_LISTED) listed.push(`- … and ${failing.length - MAX_FAILING_LISTED} more`);
  return [`${run.report.ran} ran, ${failing.length} failed:`, ...listed].join('\n');
}
