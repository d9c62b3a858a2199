/**
 * The model's review, read and checked before anything of it reaches the forge. The model is
 * asked for a JSON array in one fenced ```json block; an answer without one, or whose block is
 * not such an array, cannot be used at all. Each entry of a usable answer is kept or dropped
 * on its own.
 */

/** The severities a comment may have, most severe first: ReviewStats counts posted comments by them. */
export const REVIEW_SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;
export type ReviewSeverity = (typeof REVIEW_SEVERITIES)[number];

/** The longest comment body posted; a longer one is cut here and marked. */
export const MAX_REVIEW_COMMENT_CHARS = 4000;
/**
 * Entries an answer may hold at most: far past any limit of comments posted, and an answer of
 * more is not a review. Also keeps the dropped count far under what a result may carry.
 */
export const MAX_REVIEW_ANSWER_ENTRIES = 1000;

const CUT_MARK = ' …(cut)';

/** A comment the worker may post: on a line the change added or modified, with a bounded body. */
export interface ReviewComment {
  readonly path: string;
  readonly line: number;
  readonly severity: ReviewSeverity;
  readonly body: string;
}

/** Why an entry of the answer was not kept; the local record lists each. */
export type DropReason = 'not-a-comment' | 'unknown-severity' | 'path-not-in-change' | 'line-not-changed' | 'empty-body' | 'duplicate' | 'over-limit';

export interface DroppedEntry {
  /** Its place in the answer's array, from 0. */
  readonly index: number;
  readonly reason: DropReason;
}

/** A usable answer: the comments to post, most severe first, and the entries left out. */
export interface CheckedReview {
  readonly comments: readonly ReviewComment[];
  readonly dropped: readonly DroppedEntry[];
}

export type ReviewAnswerReading = { readonly usable: true; readonly review: CheckedReview } | { readonly usable: false; readonly problem: string };

/**
 * Reads `content`, the model's whole answer. Unusable when it holds no ```json block, more than
 * one, or a block that is not a JSON array of at most MAX_REVIEW_ANSWER_ENTRIES entries: the
 * problem says which, for the model to be told. Otherwise each entry must be an object with a
 * `path` among `changedLines`' files, a `line` among that file's added or modified lines, a
 * `severity` of REVIEW_SEVERITIES and a non-blank `body`, else it is dropped; so is a repeat of
 * an earlier comment. Bodies lose their control characters (newlines and tabs stay) and are cut
 * to MAX_REVIEW_COMMENT_CHARS. Of what is left, the `maxComments` most severe are kept (in the
 * answer's order within a severity) and the rest dropped `over-limit`.
 */
export function readReviewAnswer(content: string, changedLines: ReadonlyMap<string, ReadonlySet<number>>, maxComments: number): ReviewAnswerReading {
  const blocks = [...content.matchAll(/```json[ \t]*\r?\n([\s\S]*?)```/g)];
  if (blocks.length === 0) return { usable: false, problem: 'the answer has no fenced ```json block' };
  if (blocks.length > 1) return { usable: false, problem: `the answer has ${blocks.length} fenced \`\`\`json blocks; exactly one is expected` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(blocks[0]?.[1] ?? '');
  } catch (error) {
    return { usable: false, problem: `the \`\`\`json block is not valid JSON (${(error as Error).message})` };
  }
  if (!Array.isArray(parsed)) return { usable: false, problem: 'the ```json block is not a JSON array' };
  if (parsed.length > MAX_REVIEW_ANSWER_ENTRIES) return { usable: false, problem: `the array has ${parsed.length} entries; at most ${MAX_REVIEW_ANSWER_ENTRIES} are read` };

  const dropped: DroppedEntry[] = [];
  const candidates: Array<{ readonly index: number; readonly comment: ReviewComment }> = [];
  const seen = new Set<string>();
  parsed.forEach((entry: unknown, index) => {
    const checked = checkEntry(entry, changedLines);
    if ('reason' in checked) {
      dropped.push({ index, reason: checked.reason });
      return;
    }
    const key = JSON.stringify([checked.path, checked.line, checked.body]);
    if (seen.has(key)) {
      dropped.push({ index, reason: 'duplicate' });
      return;
    }
    seen.add(key);
    candidates.push({ index, comment: checked });
  });
  // Stable: within a severity, the model's own order.
  const bySeverity = [...candidates].sort((a, b) => REVIEW_SEVERITIES.indexOf(a.comment.severity) - REVIEW_SEVERITIES.indexOf(b.comment.severity));
  for (const { index } of bySeverity.slice(maxComments)) dropped.push({ index, reason: 'over-limit' });
  return {
    usable: true,
    review: { comments: bySeverity.slice(0, maxComments).map(({ comment }) => comment), dropped: dropped.sort((a, b) => a.index - b.index) },
  };
}

function checkEntry(entry: unknown, changedLines: ReadonlyMap<string, ReadonlySet<number>>): ReviewComment | { readonly reason: DropReason } {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return { reason: 'not-a-comment' };
  const { path, line, severity, body } = entry as Record<string, unknown>;
  if (typeof path !== 'string' || typeof line !== 'number' || typeof body !== 'string') return { reason: 'not-a-comment' };
  if (!(REVIEW_SEVERITIES as readonly unknown[]).includes(severity)) return { reason: 'unknown-severity' };
  const lines = changedLines.get(path);
  if (lines === undefined) return { reason: 'path-not-in-change' };
  if (!lines.has(line)) return { reason: 'line-not-changed' };
  const text = boundedBody(body);
  if (text === '') return { reason: 'empty-body' };
  return { path, line, severity: severity as ReviewSeverity, body: text };
}

/** The body without control characters but newlines and tabs, trimmed, cut to MAX_REVIEW_COMMENT_CHARS characters (code points, never half of one). */
function boundedBody(body: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const text = body.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').trim();
  const characters = Array.from(text);
  if (characters.length <= MAX_REVIEW_COMMENT_CHARS) return text;
  return `${characters.slice(0, MAX_REVIEW_COMMENT_CHARS - CUT_MARK.length).join('')}${CUT_MARK}`;
}

/** What ReviewStats counts: the comments posted by severity, and the entries dropped. */
export function reviewCounts(review: CheckedReview): { critical: number; major: number; minor: number; info: number; dropped: number } {
  const count = (severity: ReviewSeverity) => review.comments.filter((comment) => comment.severity === severity).length;
  return { critical: count('critical'), major: count('major'), minor: count('minor'), info: count('info'), dropped: review.dropped.length };
}
