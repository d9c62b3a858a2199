import type { ConversationMessage } from '../inference/conversation';
import { MAX_REVIEW_COMMENT_CHARS, REVIEW_SEVERITIES } from './review-answer';
import type { ChangedFile } from './review-change';

/**
 * The sentence that opens every review prompt. The inference simulator's demo review
 * scenario (libs/local-stack/src/demo-scenarios.ts) matches on it: change both together.
 */
export const REVIEW_PROMPT_OPENING = 'Review the change of this merge request.';

/** Characters of the request's title and description shown to the model. */
const MAX_TITLE_CHARS = 200;
const MAX_DESCRIPTION_CHARS = 4000;

/** What the model is shown of the request. */
export interface ReviewPromptInput {
  readonly title: string;
  readonly description: string;
  readonly sourceBranch: string;
  readonly targetBranch: string;
  /** The files whose hunks are shown: the only ones a comment may name. */
  readonly shown: readonly ChangedFile[];
  /** Paths of changed files left out to fit the budget: named, not shown. */
  readonly omitted: readonly string[];
  /** Changed files at the request's head, numbered, for context. */
  readonly contents: ReadonlyArray<{ readonly path: string; readonly text: string }>;
}

const SYSTEM = [
  'You are a careful code reviewer inside a company network.',
  `${REVIEW_PROMPT_OPENING} Comment only on what the change adds or modifies: the lines marked "+" in its hunks, by the number shown in front of them (the line's number in the file after the change).`,
  'Report real problems: bugs, wrong results, security holes, data loss, missing error handling, misleading names or comments. Skip matters of taste. Be brief and concrete, and say how to fix what you report.',
  'Answer with one fenced ```json block and nothing else, holding a JSON array with one object per comment:',
  '```json',
  `[{"path": "src/example.js", "line": 12, "severity": "major", "body": "What is wrong and how to fix it."}]`,
  '```',
  `"path" is the file's path exactly as shown after "### ", "line" a line marked "+" in that file, "severity" one of ${REVIEW_SEVERITIES.map((severity) => `"${severity}"`).join(', ')}, and "body" Markdown of at most ${MAX_REVIEW_COMMENT_CHARS} characters. Answer [] when there is nothing to remark.`,
].join('\n');

/** The opening messages of a review: how to answer, then the request, its hunks and the changed files. */
export function buildReviewPrompt(input: ReviewPromptInput): ConversationMessage[] {
  const description = input.description.trim();
  const sections = [
    `# Merge request: ${oneLine(input.title, MAX_TITLE_CHARS)}`,
    `From branch ${input.sourceBranch} into ${input.targetBranch}.`,
    description === '' ? '_No description._' : cut(description, MAX_DESCRIPTION_CHARS),
    '## The change',
    ...input.shown.map((file) => `### ${file.path}\n(${describe(file)})\n${file.diff === '' ? '(no lines to show)' : file.diff}`),
  ];
  if (input.omitted.length > 0) sections.push(`Left out to fit, not to be commented on: ${input.omitted.join(', ')}`);
  if (input.contents.length > 0) {
    sections.push('## The changed files after the change, for context', ...input.contents.map((file) => `### ${file.path} (whole file)\n${numbered(file.text)}`));
  }
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** What the model is told when its answer could not be used, for its one more try. */
export function reviewRetryMessage(problem: string): ConversationMessage {
  return { role: 'user', content: `Your answer could not be used: ${problem}. Answer again with only one fenced \`\`\`json block holding the JSON array of comments, as described.` };
}

function describe(file: ChangedFile): string {
  return file.oldPath === undefined ? file.status : `${file.status} from ${file.oldPath}`;
}

/** A file's text with each line's number in front, as the hunks show them. */
function numbered(text: string): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.map((line, index) => `${String(index + 1).padStart(6)}   ${line}`).join('\n');
}

function oneLine(text: string, max: number): string {
  return cut(text.replace(/\s+/g, ' ').trim(), max);
}

function cut(text: string, max: number): string {
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max).join('')} …(cut)`;
}
