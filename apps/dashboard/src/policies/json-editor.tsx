import { useImperativeHandle, useMemo, useRef, type Ref } from 'react';

/** A problem shown with the editor: at a line of the text, or of the document as a whole (line null). */
export interface EditorProblem {
  readonly line: number | null;
  /** The column, for a syntax error: where the parser stopped. */
  readonly column?: number;
  /** Where in the document, as the server named it (`rules.max-files-changed.max`); "" when it names none. */
  readonly path: string;
  readonly text: string;
}

export interface JsonEditorHandle {
  /** Moves focus to the list of problems, so that it is read out after a refused save. */
  focusProblems(): void;
}

interface JsonEditorProps {
  readonly id: string;
  readonly label: string;
  readonly hint: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly problems: readonly EditorProblem[];
  /** What the problems are about, e.g. "The server refused the document" or "The text is not JSON". */
  readonly problemsTitle: string;
  readonly ref?: Ref<JsonEditorHandle>;
}

/** The offsets of the first character and of the end of a 1-based line. */
function lineRange(text: string, line: number): { start: number; end: number } {
  let start = 0;
  for (let current = 1; current < line; current += 1) {
    const next = text.indexOf('\n', start);
    if (next === -1) break;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return { start, end: end === -1 ? text.length : end };
}

/**
 * A JSON document in a plain <textarea> (monospace, no wrapping) with line numbers beside
 * it, and the problems of the last check under it, each at its line. A problem's "Line n"
 * is a button that puts the cursor on that line. The line numbers repeat the problems with
 * a sign (⚠) for sighted readers and are hidden from assistive technology, which gets the
 * list through aria-describedby.
 */
export function JsonEditor({ id, label, hint, value, onChange, problems, problemsTitle, ref }: JsonEditorProps) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const problemList = useRef<HTMLDivElement>(null);
  const lineCount = useMemo(() => value.split('\n').length, [value]);
  const problemLines = useMemo(() => new Set(problems.map((problem) => problem.line).filter((line): line is number => line !== null)), [problems]);
  const invalid = problems.length > 0;

  useImperativeHandle(ref, () => ({ focusProblems: () => problemList.current?.focus() }), []);

  const goTo = (line: number, column: number | undefined) => {
    const element = textarea.current;
    if (!element) return;
    const { start, end } = lineRange(element.value, line);
    element.focus();
    // A column puts the cursor where the parser stopped; a line alone selects the line.
    if (column !== undefined) element.setSelectionRange(Math.min(start + column - 1, end), Math.min(start + column - 1, end));
    else element.setSelectionRange(start, end);
    // Scroll the line to a third of the way down, where the eye looks first.
    const lineHeight = Number.parseFloat(getComputedStyle(element).lineHeight) || 20;
    element.scrollTop = Math.max(0, (line - 1) * lineHeight - element.clientHeight / 3);
    if (gutter.current) gutter.current.scrollTop = element.scrollTop;
  };

  return (
    <div className="field wide">
      <label htmlFor={id}>{label}</label>
      <p className="field-hint" id={`${id}-hint`}>
        {hint}
      </p>
      <div className="json-editor">
        <div className="json-gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, index) => {
            const line = index + 1;
            return (
              <div key={line} className={problemLines.has(line) ? 'gutter-line gutter-problem' : 'gutter-line'}>
                {problemLines.has(line) ? '⚠ ' : ''}
                {line}
              </div>
            );
          })}
        </div>
        <textarea
          id={id}
          ref={textarea}
          className="json-text"
          value={value}
          onChange={(event) => onChange(event.target.value)}
          onScroll={(event) => {
            if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
          }}
          rows={24}
          wrap="off"
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          autoCorrect="off"
          aria-invalid={invalid ? true : undefined}
          aria-describedby={invalid ? `${id}-hint ${id}-problems` : `${id}-hint`}
        />
      </div>
      <div className="editor-problems" id={`${id}-problems`} ref={problemList} tabIndex={-1} hidden={!invalid}>
        {invalid ? (
          <>
            <p className="field-error">
              <span aria-hidden="true">⚠ </span>
              {problemsTitle}: {problems.length === 1 ? '1 problem' : `${problems.length} problems`}.
            </p>
            <ul>
              {problems.map((problem, index) => (
                <li key={index}>
                  {problem.line !== null ? (
                    <button type="button" className="link-button" onClick={() => goTo(problem.line ?? 1, problem.column)}>
                      Line {problem.line}
                      {problem.column !== undefined ? `, column ${problem.column}` : ''}
                    </button>
                  ) : (
                    <span className="problem-place">Whole document</span>
                  )}
                  {problem.path ? (
                    <>
                      {' '}
                      <code>{problem.path}</code>
                    </>
                  ) : null}
                  : {problem.text}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
    </div>
  );
}
