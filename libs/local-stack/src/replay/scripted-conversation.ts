import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ReplayCaseDefinition } from './replay-case';

/** One edit the scripted model makes: replace `search` with `replace` in `path` (an empty search creates the file). */
export interface ScriptedEdit {
  readonly path: string;
  readonly search: string;
  readonly replace: string;
}

/** How the scripted model goes about a case (`conversation` in case.yml). */
export type ConversationKind = ReplayCaseDefinition['conversation'];

interface ToolCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/** One scripted answer, as the inference simulator's scenario `turns` hold it. */
export interface ScriptedTurn {
  readonly content?: string;
  readonly tool_calls?: readonly ToolCall[];
}

/**
 * Turns a unified diff (`git diff` of the fix) into the edits a model would make with the
 * agent's edit tool: each hunk becomes one edit whose search is the hunk's context and
 * removed lines and whose replacement is its context and added lines; a new file is an
 * edit with an empty search. Deleting a file is not something the agent's tools do.
 */
export function editsFromPatch(patch: string): ScriptedEdit[] {
  const edits: ScriptedEdit[] = [];
  let path: string | undefined;
  let isNew = false;
  let search: string[] = [];
  let replace: string[] = [];
  let inHunk = false;
  const flush = () => {
    if (inHunk && path !== undefined) edits.push({ path, search: isNew ? '' : search.join('\n'), replace: replace.join('\n') });
    search = [];
    replace = [];
    inHunk = false;
  };
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) {
      flush();
      path = undefined;
      isNew = false;
    } else if (line.startsWith('--- ')) {
      isNew = line === '--- /dev/null';
    } else if (line.startsWith('+++ ')) {
      if (line === '+++ /dev/null') throw new Error('the fix deletes a file, which the agent cannot do');
      path = line.slice(4).replace(/^b\//, '');
    } else if (line.startsWith('@@')) {
      flush();
      inHunk = true;
    } else if (inHunk && line.startsWith('\\')) {
      // "\ No newline at end of file": the edit tool writes whole lines.
    } else if (inHunk && line.startsWith('-')) {
      search.push(line.slice(1));
    } else if (inHunk && line.startsWith('+')) {
      replace.push(line.slice(1));
    } else if (inHunk && (line.startsWith(' ') || line === '')) {
      search.push(line.slice(1));
      replace.push(line.slice(1));
    }
  }
  flush();
  // A trailing empty context line is the split's artefact of the patch's final newline.
  return edits.map((edit) => ({ ...edit, search: trimTrailingEmpty(edit.search), replace: trimTrailingEmpty(edit.replace) }));
}

const COMMENT_PREFIX: Readonly<Record<ReplayCaseDefinition['language'], string>> = {
  javascript: '//',
  typescript: '//',
  rust: '//',
  go: '//',
  java: '//',
  python: '#',
};

/**
 * The scripted model's conversation for a case, with native tool calls:
 *
 * - `fix`: reads the first file the fix changes, makes the fix and runs the tests, finishes.
 * - `fail-then-fix`: its first attempt only adds a comment to the first place the fix
 *   changes, so the tests still fail; it hears so from run_tests, then replaces that attempt
 *   with the fix, runs the tests again and finishes.
 * - `malformed-then-fix`: its first answer is an edit block missing its end marker; told it
 *   could not be read, it makes the fix.
 * - `wrong-fix`: it adds the comment only and finishes without testing: the job must fail.
 */
export function scriptedConversation(kind: ConversationKind, language: ReplayCaseDefinition['language'], edits: readonly ScriptedEdit[]): ScriptedTurn[] {
  const [first] = edits;
  if (first === undefined) throw new Error('the fix has no edit');
  const call = (name: string, args: Record<string, unknown> = {}): ToolCall => ({ name, arguments: args });
  const editCalls = (list: readonly ScriptedEdit[]) => list.map((edit) => call('edit_file', { path: edit.path, search: edit.search, replace: edit.replace }));
  const read: ScriptedTurn = { content: `Reading ${first.path} first.`, tool_calls: [call('read_file', { path: first.path })] };
  const finish: ScriptedTurn = { tool_calls: [call('finish', { summary: 'Fixed; the regression test passes.' })] };
  const fix: ScriptedTurn = { content: 'Making the fix.', tool_calls: [...editCalls(edits), call('run_tests')] };
  // A first attempt that changes nothing the tests see: a comment after the first changed stretch.
  const note = `${COMMENT_PREFIX[language]} airlock: first attempt`;
  const attempted = first.search === '' ? undefined : { ...first, replace: `${first.search}\n${indentOf(lastLine(first.search))}${note}` };
  switch (kind) {
    case 'fix':
      return [read, fix, finish];
    case 'fail-then-fix': {
      if (attempted === undefined) throw new Error('fail-then-fix needs a fix that edits an existing file first');
      const retry = { ...first, search: attempted.replace };
      return [read, { content: 'Trying a first fix.', tool_calls: [...editCalls([attempted]), call('run_tests')] }, { content: 'That did not fix it; trying again.', tool_calls: [...editCalls([retry, ...edits.slice(1)]), call('run_tests')] }, finish];
    }
    case 'malformed-then-fix':
      return [{ content: `${first.path}\n<<<<<<< SEARCH\n${first.search}\n=======\n${first.replace}\n` }, fix, finish];
    case 'wrong-fix':
      if (attempted === undefined) throw new Error('wrong-fix needs a fix that edits an existing file first');
      return [read, { content: 'This should do it.', tool_calls: [...editCalls([attempted]), call('finish', { summary: 'Done.' })] }];
  }
}

/** Writes the inference simulator's scenario for a case: its conversation, matched by the ticket's title. */
export function writeCaseScenario(dir: string, definition: ReplayCaseDefinition, turns: readonly ScriptedTurn[]): void {
  // lineWidth 0: the yaml library folds long lines otherwise, which would change an edit's text.
  writeFileSync(join(dir, `50-replay-${definition.id}.yaml`), stringify({ name: `replay-${definition.id}`, match: { contains: [definition.ticket.title] }, turns }, { lineWidth: 0 }));
}

function trimTrailingEmpty(text: string): string {
  return text.replace(/\n+$/, '');
}

function lastLine(text: string): string {
  return text.split('\n').at(-1) ?? '';
}

function indentOf(line: string): string {
  return /^\s*/.exec(line)?.[0] ?? '';
}
