import * as fc from 'fast-check';
import { parseEditBlocks, type EditBlock } from './edit-block.parser';

// Property tests of the parser of the model's SEARCH/REPLACE blocks. A model's answer is
// untrusted text: whatever it holds, the parser returns blocks and a malformed count (it
// has no refusal of its own; a block the applier cannot use is refused there), never
// throws, and reads back exactly the blocks a well-formed answer was written with.

const SEARCH = '<<<<<<< SEARCH';
const DIVIDER = '=======';
const REPLACE = '>>>>>>> REPLACE';

/** Lines that mean something to the parser, and lines that nearly do. */
const trickyLine = fc.constantFrom(
  SEARCH, DIVIDER, REPLACE, '<<<<< SEARCH', '<<<<<<<<< SEARCH  ', '<<<< SEARCH', '========', '>>>>>>>>> REPLACE', '>>>>>>>REPLACE',
  '```', '```ts', '~~~', '', '   ', 'src/a.ts', '**src/b.ts**', '`src/c.ts`:', '# src/d.ts', '***', ':::', '\r', 'return a + b;',
);

/** Answers made of tricky lines and arbitrary text, with Windows and Unix line endings. */
const answer = fc
  .tuple(fc.array(fc.oneof(trickyLine, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 60 }), fc.boolean())
  .map(([lines, crlf]) => lines.join(crlf ? '\r\n' : '\n'));

const isMarker = (line: string) => /^<{5,9} ?SEARCH\s*$/.test(line) || /^={5,9}\s*$/.test(line) || /^>{5,9} ?REPLACE\s*$/.test(line);

/** A code line that is not a marker and carries no line break. */
const codeLine = fc.string({ maxLength: 50 }).filter((line) => !/[\r\n]/.test(line) && !isMarker(line));

/** A repository path as a model writes one: no decoration around it, no spaces. */
const path = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_./-]{0,40}$/).filter((candidate) => !/[*`:]$/.test(candidate));

const block: fc.Arbitrary<EditBlock> = fc.record({ path, search: fc.array(codeLine, { maxLength: 6 }), replace: fc.array(codeLine, { maxLength: 6 }) });

/** Writes blocks as a model does, each in its own fence with its path above it. */
function render(blocks: readonly EditBlock[], prose: readonly string[]): string {
  return blocks
    .map((edit, index) => [prose[index] ?? '', '', '```', edit.path, SEARCH, ...edit.search, DIVIDER, ...edit.replace, REPLACE, '```', ''].join('\n'))
    .join('\n');
}

describe('parseEditBlocks: properties', () => {
  it('never throws on any answer, and every block it finds names a path', () => {
    fc.assert(
      fc.property(answer, (text) => {
        const { blocks, malformed } = parseEditBlocks(text);
        expect(Number.isInteger(malformed) && malformed >= 0).toBe(true);
        for (const found of blocks) {
          expect(found.path).toMatch(/\S/);
          expect(found.path).toBe(found.path.trim());
          for (const line of [...found.search, ...found.replace]) expect(line).not.toContain('\n');
        }
        // Each SEARCH marker opens at most one block or counts as one malformed block.
        const searchMarkers = text.replace(/\r\n/g, '\n').split('\n').filter((line) => /^<{5,9} ?SEARCH\s*$/.test(line)).length;
        expect(blocks.length + malformed).toBeLessThanOrEqual(searchMarkers);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads back exactly the blocks a well-formed answer was written with (round trip)', () => {
    const prose = fc.array(codeLine.filter((line) => line.trim() === '' || /^[A-Za-z ,.]+$/.test(line)), { maxLength: 5 });
    fc.assert(
      fc.property(fc.array(block, { maxLength: 5 }), prose, fc.boolean(), (blocks, text, crlf) => {
        const written = render(blocks, text);
        expect(parseEditBlocks(crlf ? written.replace(/\n/g, '\r\n') : written)).toEqual({ blocks, malformed: 0 });
      }),
      { numRuns: 500 },
    );
  });

  it('finds the same path however the model decorates it (bold, code, heading, trailing colon)', () => {
    const decoration = fc.constantFrom(['', ''], ['**', '**'], ['`', '`'], ['# ', ''], ['### `', '`:'], ['*', ':'], ['', ':']);
    fc.assert(
      fc.property(block, decoration, (edit, [before, after]) => {
        const text = [`${before}${edit.path}${after}`, SEARCH, ...edit.search, DIVIDER, ...edit.replace, REPLACE].join('\n');
        expect(parseEditBlocks(text).blocks).toEqual([edit]);
      }),
      { numRuns: 300 },
    );
  });

  it('counts a block cut off anywhere after its SEARCH marker as malformed, never as an edit', () => {
    fc.assert(
      fc.property(block, fc.nat(), (edit, cutAt) => {
        const lines = [edit.path, SEARCH, ...edit.search, DIVIDER, ...edit.replace, REPLACE];
        const cut = 2 + (cutAt % (lines.length - 2));
        expect(parseEditBlocks(lines.slice(0, cut).join('\n'))).toEqual({ blocks: [], malformed: 1 });
      }),
      { numRuns: 300 },
    );
  });
});
