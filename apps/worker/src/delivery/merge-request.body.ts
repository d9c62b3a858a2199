import type { PolicyDecision } from '../jobs/governance/policy-decisions';
import type { JobResultBuilder } from '../jobs/job-result.builder';

/** The longest title the forges take comfortably, and the ticket's own bound. */
export const MAX_TITLE_CHARS = 200;
/** The whole body: far under every forge's limit (GitHub's is 65 536), with room for its draft marker. */
export const MAX_BODY_CHARS = 60_000;
const MAX_DESCRIPTION_CHARS = 20_000;
const MAX_FILES_LISTED = 50;
const MAX_PATH_CHARS = 300;
const MAX_DECISIONS_LISTED = 50;
const MAX_DETAIL_CHARS = 500;
const FALLBACK_TITLE = 'Airlock change';

/** One file of the change, as `git diff --numstat` counts it; no counts for a binary file. */
export interface ChangedFile {
  readonly path: string;
  readonly added: number | undefined;
  readonly removed: number | undefined;
}

/** What the merge request says about the attempt: all of it read inside the customer's network. */
export interface MergeRequestFacts {
  readonly jobId: string;
  readonly attempt: number;
  readonly ticket: { readonly title: string; readonly description: string };
  readonly files: readonly ChangedFile[];
  readonly verification: Readonly<JobResultBuilder['verification']>;
  readonly decisions: readonly PolicyDecision[];
}

/** A merge request's text: what is proposed to the forge and kept beside the change in the outbox. */
export interface MergeRequestText {
  readonly title: string;
  readonly body: string;
}

/** The text of the merge request for an attempt's change. */
export function mergeRequestText(facts: MergeRequestFacts): MergeRequestText {
  return { title: mergeRequestTitle(facts.ticket.title), body: mergeRequestBody(facts) };
}

/** The ticket's title on one line of at most MAX_TITLE_CHARS, or "Airlock change" when it has none. */
export function mergeRequestTitle(ticketTitle: string): string {
  const line = oneLine(ticketTitle);
  return line === '' ? FALLBACK_TITLE : cut(line, MAX_TITLE_CHARS);
}

/** Parses `git diff --numstat -z --no-renames`: `added\tremoved\tpath\0` per file, `-` counts for a binary one. */
export function parseNumstat(output: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  for (const record of output.split('\0')) {
    const match = /^(\d+|-)\t(\d+|-)\t([\s\S]+)$/.exec(record);
    if (match === null) continue;
    const [, added = '-', removed = '-', path = ''] = match;
    files.push({ path, added: added === '-' ? undefined : Number(added), removed: removed === '-' ? undefined : Number(removed) });
  }
  return files;
}

/**
 * Markdown for the forge: the ticket, the files changed with their line counts, the tests
 * run at the base commit and on the change, the policy rules that fired, and the job and
 * attempt it came from. Every part is bounded, and the whole is cut at MAX_BODY_CHARS
 * with the job line kept last.
 */
export function mergeRequestBody(facts: MergeRequestFacts): string {
  const sections = [ticketSection(facts.ticket), changeSection(facts.files), testsSection(facts.verification), policySection(facts.decisions)];
  const footer = `\n---\nAirlock job ${facts.jobId}, attempt ${facts.attempt}\n`;
  const main = sections.join('\n\n');
  const cutNote = '\n\n_(cut to fit the merge request)_';
  const room = MAX_BODY_CHARS - footer.length - 1;
  return `${main.length <= room ? main : `${cut(main, room - cutNote.length)}${cutNote}`}\n${footer}`;
}

function ticketSection(ticket: MergeRequestFacts['ticket']): string {
  const title = mergeRequestTitle(ticket.title);
  const description = ticket.description.trim();
  const quoted = description === '' ? '_The ticket has no description._' : cut(description, MAX_DESCRIPTION_CHARS).split('\n').map((line) => `> ${line}`).join('\n');
  return `## Ticket\n\n**${title}**\n\n${quoted}`;
}

function changeSection(files: readonly ChangedFile[]): string {
  const sum = (count: (file: ChangedFile) => number | undefined) => files.reduce((total, file) => total + (count(file) ?? 0), 0);
  const lines = [`## Change\n\n${files.length} file${files.length === 1 ? '' : 's'} changed, +${sum((file) => file.added)} -${sum((file) => file.removed)}:\n`];
  for (const file of files.slice(0, MAX_FILES_LISTED)) {
    const counts = file.added === undefined || file.removed === undefined ? '(binary)' : `+${file.added} -${file.removed}`;
    lines.push(`- ${codeSpan(cut(oneLine(file.path), MAX_PATH_CHARS))} ${counts}`);
  }
  if (files.length > MAX_FILES_LISTED) lines.push(`- … and ${files.length - MAX_FILES_LISTED} more`);
  return lines.join('\n');
}

function testsSection(verification: MergeRequestFacts['verification']): string {
  const { baseTestsRan, baseTestExitCode, baseReportRead, testsBefore, failingBefore, testsRan, testExitCode, reportRead, testsAfter, failingAfter } = verification;
  const exit = (ran: boolean, code: number) => (ran ? String(code) : 'did not run');
  const counted = (read: boolean, count: number) => (read ? String(count) : 'no report');
  const rows = [
    '| | at the base commit | with the change |',
    '| --- | --- | --- |',
    `| exit code of the test command | ${exit(baseTestsRan, baseTestExitCode)} | ${exit(testsRan, testExitCode)} |`,
    `| tests run | ${counted(baseReportRead, testsBefore)} | ${counted(reportRead, testsAfter)} |`,
    `| tests failing | ${counted(baseReportRead, failingBefore)} | ${counted(reportRead, failingAfter)} |`,
  ];
  const outcome = `Tests fixed: ${verification.testsFixed}. Tests regressed: ${verification.testsRegressed}. Reproduction test added: ${verification.reproductionAdded ? 'yes' : 'no'}.`;
  return `## Tests\n\n${rows.join('\n')}\n\n${outcome}`;
}

function policySection(decisions: readonly PolicyDecision[]): string {
  if (decisions.length === 0) return '## Policy\n\nNo policy rule fired.';
  const lines = decisions.slice(0, MAX_DECISIONS_LISTED).map((decision) => {
    const how = `${decision.level}, ${decision.outcome}${decision.policy === 'shadow' ? ', shadow policy' : ''}`;
    return `- ${codeSpan(decision.rule)} (${how}): ${cut(oneLine(decision.detail), MAX_DETAIL_CHARS)}`;
  });
  if (decisions.length > MAX_DECISIONS_LISTED) lines.push(`- … and ${decisions.length - MAX_DECISIONS_LISTED} more`);
  return `## Policy\n\n${lines.join('\n')}`;
}

/** Control characters and line breaks as spaces, runs of white space as one. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** At most `max` characters, never splitting a surrogate pair, with an ellipsis when cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** A Markdown code span that holds any text: fenced by one backtick more than its longest run. */
function codeSpan(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padding = longestRun > 0 ? ' ' : '';
  return `${fence}${padding}${text}${padding}${fence}`;
}
