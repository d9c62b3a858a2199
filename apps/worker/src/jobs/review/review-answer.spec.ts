import { MAX_REVIEW_ANSWER_ENTRIES, MAX_REVIEW_COMMENT_CHARS, readReviewAnswer, reviewCounts, type ReviewAnswerReading } from './review-answer';
import { changedFilesOf, parseNameStatus } from './review-change';

/** The lines a comment may go on: src/invoice.js 8 and 9 added, src/new.js 1..2 (a new file). */
const CHANGED = new Map<string, ReadonlySet<number>>([
  ['src/invoice.js', new Set([8, 9])],
  ['src/new.js', new Set([1, 2])],
]);
const fenced = (value: unknown) => `Here is my review.\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`\n`;
const comment = (overrides: Record<string, unknown> = {}) => ({ path: 'src/invoice.js', line: 9, severity: 'major', body: 'Subtract the discount.', ...overrides });
const read = (content: string, maxComments = 30): ReviewAnswerReading => readReviewAnswer(content, CHANGED, maxComments);
const usable = (content: string, maxComments = 30) => {
  const reading = read(content, maxComments);
  if (!reading.usable) throw new Error(`expected a usable answer, got: ${reading.problem}`);
  return reading.review;
};

describe('readReviewAnswer', () => {
  it('keeps comments on added lines of changed files, in the answer order within a severity', () => {
    const review = usable(fenced([comment(), comment({ line: 8, severity: 'minor', body: 'Say why in the comment.' }), comment({ path: 'src/new.js', line: 1, severity: 'info', body: 'Nice.' })]));
    expect(review).toEqual({
      comments: [
        { path: 'src/invoice.js', line: 9, severity: 'major', body: 'Subtract the discount.' },
        { path: 'src/invoice.js', line: 8, severity: 'minor', body: 'Say why in the comment.' },
        { path: 'src/new.js', line: 1, severity: 'info', body: 'Nice.' },
      ],
      dropped: [],
    });
    expect(reviewCounts(review)).toEqual({ critical: 0, major: 1, minor: 1, info: 1, dropped: 0 });
  });

  it('reads an empty array as a review without comments', () => {
    expect(usable('```json\n[]\n```')).toEqual({ comments: [], dropped: [] });
  });

  it.each([
    ['a line the change did not add or modify', comment({ line: 5 }), 'line-not-changed'],
    ['a line of a file outside the change', comment({ path: 'src/currency.js', line: 3 }), 'path-not-in-change'],
    ['a path written otherwise than the diff shows it', comment({ path: './src/invoice.js' }), 'path-not-in-change'],
    ['an unknown severity', comment({ severity: 'blocker' }), 'unknown-severity'],
    ['a severity in other case', comment({ severity: 'Major' }), 'unknown-severity'],
    ['a line that is not a number', comment({ line: '9' }), 'not-a-comment'],
    ['a fractional line', comment({ line: 8.5 }), 'line-not-changed'],
    ['no body', { path: 'src/invoice.js', line: 9, severity: 'major' }, 'not-a-comment'],
    ['a blank body', comment({ body: ' \n\t ' }), 'empty-body'],
    ['a string instead of an object', 'src/invoice.js:9 is wrong', 'not-a-comment'],
    ['null', null, 'not-a-comment'],
  ])('drops an entry with %s, counting it', (_what, entry, reason) => {
    const review = usable(fenced([comment({ body: 'Kept.' }), entry]));
    expect(review.comments).toEqual([expect.objectContaining({ body: 'Kept.' })]);
    expect(review.dropped).toEqual([{ index: 1, reason }]);
    expect(reviewCounts(review).dropped).toBe(1);
  });

  it('drops a repeat of an earlier comment', () => {
    expect(usable(fenced([comment(), comment()])).dropped).toEqual([{ index: 1, reason: 'duplicate' }]);
  });

  it('keeps the most severe comments up to the limit and drops the rest as over the limit', () => {
    const answer = fenced([comment({ severity: 'info', body: 'a' }), comment({ severity: 'critical', body: 'b' }), comment({ severity: 'minor', body: 'c' }), comment({ severity: 'critical', body: 'd' })]);
    const review = usable(answer, 2);
    expect(review.comments.map((kept) => kept.body)).toEqual(['b', 'd']);
    expect(review.dropped).toEqual([
      { index: 0, reason: 'over-limit' },
      { index: 2, reason: 'over-limit' },
    ]);
    expect(reviewCounts(review)).toEqual({ critical: 2, major: 0, minor: 0, info: 0, dropped: 2 });
  });

  it('cuts a long body to the bound, marked, and strips control characters but newlines and tabs', () => {
    const [long] = usable(fenced([comment({ body: 'x'.repeat(MAX_REVIEW_COMMENT_CHARS + 500) })])).comments;
    expect(Array.from(long?.body ?? '')).toHaveLength(MAX_REVIEW_COMMENT_CHARS);
    expect(long?.body.endsWith('…(cut)')).toBe(true);
    const [clean] = usable(fenced([comment({ body: '\u001b[31mRed\u001b[0m\r\n\tand\u0000 plain' })])).comments;
    expect(clean?.body).toBe('[31mRed[0m\n\tand plain');
  });

  it.each([
    ['no fenced json block', 'The code looks fine to me.', /no fenced ```json block/],
    ['a block in another language', '```js\n[]\n```', /no fenced ```json block/],
    ['two json blocks', '```json\n[]\n```\nand\n```json\n[]\n```', /2 fenced ```json blocks/],
    ['a block that is not JSON', '```json\n[{path: "x"}]\n```', /not valid JSON/],
    ['a block that is an object', '```json\n{"comments": []}\n```', /not a JSON array/],
    ['too many entries', fenced(Array.from({ length: MAX_REVIEW_ANSWER_ENTRIES + 1 }, () => ({}))), /at most 1000 are read/],
  ])('cannot use an answer with %s, and says why', (_what, content, problem) => {
    const reading = read(content);
    expect(reading.usable).toBe(false);
    expect(reading.usable ? '' : reading.problem).toMatch(problem);
  });
});

describe('changedFilesOf', () => {
  it("takes each file's exact path from the name-status listing and its added lines and numbered hunks from the patch", () => {
    const names = ['M', 'src/invoice.js', 'R087', 'old name.js', 'new "name".js', 'D', 'gone.js', 'A', 'logo.png', ''].join('\0');
    const patch = [
      'diff --git a/src/invoice.js b/src/invoice.js',
      'index 1111111..2222222 100644',
      '--- a/src/invoice.js',
      '+++ b/src/invoice.js',
      '@@ -6,3 +6,4 @@ function invoiceTotal(lines, discountPercent = 0) {',
      '   const subtotal = 1;',
      '-  return subtotal + discount;',
      '+  // Fixed.',
      '+  return subtotal - discount;',
      ' }',
      '\\ No newline at end of file',
      'diff --git a/old name.js b/"new \\"name\\".js"',
      'similarity index 87%',
      'rename from old name.js',
      'rename to "new \\"name\\".js"',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff --git a/gone.js b/gone.js',
      'deleted file mode 100644',
      '--- a/gone.js',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      'diff --git a/logo.png b/logo.png',
      'new file mode 100644',
      'Binary files /dev/null and b/logo.png differ',
      '',
    ].join('\n');
    const files = changedFilesOf(parseNameStatus(names), patch);
    expect(files.map(({ path, oldPath, status, addedLines }) => ({ path, oldPath, status, added: [...addedLines] }))).toEqual([
      { path: 'src/invoice.js', oldPath: undefined, status: 'modified', added: [7, 8] },
      { path: 'new "name".js', oldPath: 'old name.js', status: 'renamed', added: [1] },
      { path: 'gone.js', oldPath: undefined, status: 'deleted', added: [] },
      { path: 'logo.png', oldPath: undefined, status: 'added', added: [] },
    ]);
    expect(files[0]?.diff).toBe(
      ['@@ -6,3 +6,4 @@ function invoiceTotal(lines, discountPercent = 0) {', '     6     const subtotal = 1;', '       -   return subtotal + discount;', '     7 +   // Fixed.', '     8 +   return subtotal - discount;', '     9   }'].join('\n'),
    );
    expect(files[3]?.diff).toBe('(a binary file: no lines to show)');
  });

  it('refuses a patch whose blocks do not match the listing', () => {
    expect(() => changedFilesOf(parseNameStatus('M\0a.js\0M\0b.js\0'), 'diff --git a/a.js b/a.js\n@@ -1 +1 @@\n-a\n+b\n')).toThrow(/listed 2 files but wrote 1/);
  });
});
