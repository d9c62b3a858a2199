import { useId, useState, type ReactNode } from 'react';

/**
 * How a series is drawn: a colour and a fill pattern (or a line style), so that two series
 * are told apart without colour too. styles.css draws each; ChartPatterns defines the fills.
 */
export type SeriesTone = 'solid-1' | 'solid-bad' | 'hatch-2' | 'hatch-5' | 'dots-5' | 'cross-3' | 'vertical-4' | 'line-solid-1' | 'line-dashed-3';

export interface LegendEntry {
  readonly name: string;
  readonly tone: SeriesTone;
}

/**
 * The fill patterns the charts' series use, defined once on the page: a series' CSS class
 * fills its bars with `url(#analytics-<tone>)`. Ids are fixed so the stylesheet can name them.
 */
export function ChartPatterns() {
  return (
    <svg className="chart-patterns" aria-hidden="true" focusable="false" width="0" height="0">
      <defs>
        <pattern id="analytics-hatch-2" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" className="pattern-paper" />
          <line x1="1.5" y1="0" x2="1.5" y2="6" className="pattern-ink pattern-ink-2" />
        </pattern>
        <pattern id="analytics-hatch-5" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" className="pattern-paper" />
          <line x1="1.5" y1="0" x2="1.5" y2="6" className="pattern-ink pattern-ink-5" />
        </pattern>
        <pattern id="analytics-dots-5" width="6" height="6" patternUnits="userSpaceOnUse">
          <rect width="6" height="6" className="pattern-paper" />
          <circle cx="3" cy="3" r="1.6" className="pattern-dot-5" />
        </pattern>
        <pattern id="analytics-cross-3" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="7" height="7" className="pattern-paper" />
          <line x1="1" y1="0" x2="1" y2="7" className="pattern-ink pattern-ink-3" />
          <line x1="0" y1="1" x2="7" y2="1" className="pattern-ink pattern-ink-3" />
        </pattern>
        <pattern id="analytics-vertical-4" width="5" height="5" patternUnits="userSpaceOnUse">
          <rect width="5" height="5" className="pattern-paper" />
          <line x1="1.5" y1="0" x2="1.5" y2="5" className="pattern-ink pattern-ink-4" />
        </pattern>
      </defs>
    </svg>
  );
}

interface ChartFigureProps {
  readonly title: string;
  readonly headingLevel?: 2 | 3;
  /** What the chart shows, in words: read first, by everyone. */
  readonly summary: ReactNode;
  /** When set, there is nothing to draw: this says so, and what would fill the chart. */
  readonly empty?: string | null;
  /** The drawing; hidden from assistive technology, which reads the table instead. */
  readonly chart: ReactNode;
  readonly legend?: readonly LegendEntry[];
  /** The same numbers as a table: always in the page for screen readers, shown on demand. */
  readonly table: ReactNode;
  /** Anything to say under the chart (what a count includes, what a filter does to it). */
  readonly notes?: ReactNode;
  readonly className?: string;
}

/**
 * One chart as everyone can read it: a heading, a text summary, the drawing (for the eye),
 * its legend, and its numbers as a table. The table is in the document all along, only
 * visually hidden, so a screen reader gets the figures without pressing anything; "Show as
 * table" puts it on screen for those who would rather read numbers than bars.
 */
export function ChartFigure({ title, headingLevel = 2, summary, empty = null, chart, legend, table, notes, className }: ChartFigureProps) {
  const id = useId();
  const [tableShown, setTableShown] = useState(false);
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section className={`chart-figure${className ? ` ${className}` : ''}`} aria-labelledby={`${id}-title`}>
      <Heading id={`${id}-title`}>{title}</Heading>
      {empty !== null ? (
        <>
          <p className="empty-state">{empty}</p>
          {notes}
        </>
      ) : (
        <>
          <p className="chart-summary">{summary}</p>
          <div className="chart-area" aria-hidden="true">
            {chart}
          </div>
          {legend && legend.length > 0 ? (
            <ul className="chart-legend" aria-hidden="true">
              {legend.map((entry) => (
                <li key={entry.name}>
                  <span className={`swatch swatch-${entry.tone}`} />
                  {entry.name}
                </li>
              ))}
            </ul>
          ) : null}
          {notes}
          <button type="button" className="secondary compact table-toggle" aria-pressed={tableShown} onClick={() => setTableShown((shown) => !shown)}>
            Show as table
          </button>
          <div className={tableShown ? 'chart-table table-scroll' : 'visually-hidden'}>{table}</div>
        </>
      )}
    </section>
  );
}
