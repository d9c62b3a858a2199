import type { DefinitionHit, RankedFile, RankReason } from '../ranking/file-ranker';
import type { TokenCounter } from './token-count';

/** Lines of one file given to the model, 1-based and inclusive, with their text. */
export interface Excerpt {
  readonly startLine: number;
  readonly endLine: number;
  readonly text: string;
}

/** One file chosen for the model: whole, or only the definitions the ticket names. */
export interface ContextFile {
  readonly path: string;
  /** 1-based position in the ranking (not in this list: files that did not fit leave gaps). */
  readonly rank: number;
  readonly score: number;
  readonly coverage: 'whole-file' | 'definitions';
  readonly excerpts: readonly Excerpt[];
  /** What the excerpts and the file's header line cost. */
  readonly tokens: number;
  /** Local logs only: holds file and symbol names. */
  readonly why: RankReason;
}

/** One line of the symbol map given to the model: where a named definition is. */
export interface ContextSymbol {
  readonly path: string;
  readonly name: string;
  readonly kind: DefinitionHit['kind'];
  readonly container: string | null;
  readonly line: number;
  readonly match: DefinitionHit['match'];
  readonly score: number;
  readonly tokens: number;
}

/** How the budget is spent. */
export interface PackingOptions {
  readonly tokenBudget: number;
  readonly maxFiles: number;
  readonly maxSymbols: number;
  readonly countTokens: TokenCounter;
  /** Reads a file's text, or undefined when it cannot be given (gone, changed into a link…). */
  readonly readText: (path: string) => Promise<string | undefined>;
  readonly signal?: AbortSignal;
}

/** What fits in the budget, in rank order. */
export interface PackedContext {
  readonly symbols: readonly ContextSymbol[];
  readonly files: readonly ContextFile[];
  readonly tokensUsed: number;
  /** Ranked files left out because neither they nor their definitions fit. */
  readonly filesOverBudget: number;
}

/** The symbol map may take this share of the budget at most: files are what the model needs most. */
const SYMBOL_SHARE = 0.1;
/** Below this many tokens left, no file or excerpt is worth its header. */
const MIN_USEFUL_TOKENS = 16;
/**
 * Ranked files read at most, as a multiple of `maxFiles`: a smaller file a little further
 * down may still fit when one does not, but reading the whole ranking of a large
 * repository for a budget that is already nearly spent took seconds per retrieval
 * (`npm run bench:agent`, an 8k window on 50,000 files), for files ranked too low to matter.
 */
const FILES_READ_PER_FILE_WANTED = 4;
const MIN_FILES_READ = 20;

/**
 * Spends a token budget on ranked results: first a short map of the definitions the
 * ticket names (at most a tenth of the budget), then files in rank order, each whole if it
 * fits, else only its named definitions (with their doc comments), else left out — a
 * smaller file further down may still fit. Every cost is counted with `countTokens`, file
 * headers included, so the total never exceeds the budget.
 */
export async function packWithinBudget(ranked: readonly RankedFile[], symbols: readonly DefinitionHit[], options: PackingOptions): Promise<PackedContext> {
  let used = 0;
  const chosenSymbols: ContextSymbol[] = [];
  const symbolBudget = Math.floor(options.tokenBudget * SYMBOL_SHARE);
  for (const hit of symbols.slice(0, options.maxSymbols)) {
    const tokens = options.countTokens(symbolLine(hit));
    if (used + tokens > symbolBudget) break;
    used += tokens;
    chosenSymbols.push({
      path: hit.path,
      name: hit.name,
      kind: hit.kind,
      container: hit.container,
      line: hit.line,
      match: hit.match,
      score: hit.score,
      tokens,
    });
  }

  const files: ContextFile[] = [];
  let filesOverBudget = 0;
  const maxFilesRead = Math.max(MIN_FILES_READ, options.maxFiles * FILES_READ_PER_FILE_WANTED);
  for (const [index, file] of ranked.entries()) {
    if (files.length >= options.maxFiles || options.tokenBudget - used < MIN_USEFUL_TOKENS) break;
    if (options.signal?.aborted) break;
    if (index >= maxFilesRead) {
      // Left out unread: counted as over budget, as a file read and found too large is.
      filesOverBudget += ranked.length - index;
      break;
    }
    const text = await options.readText(file.path);
    if (text === undefined) continue;
    const header = options.countTokens(file.path) + 4;
    const lines = text.split('\n');
    if (text.endsWith('\n')) lines.pop();
    const whole = header + options.countTokens(text);
    if (used + whole <= options.tokenBudget) {
      used += whole;
      files.push({
        path: file.path,
        rank: index + 1,
        score: file.score,
        coverage: 'whole-file',
        excerpts: [{ startLine: 1, endLine: Math.max(1, lines.length), text }],
        tokens: whole,
        why: file.why,
      });
      continue;
    }
    const excerpts = fitDefinitions(file.why.definitions, lines, options.tokenBudget - used - header, options.countTokens);
    if (excerpts.length === 0) {
      filesOverBudget += 1;
      continue;
    }
    const tokens = header + excerpts.reduce((sum, excerpt) => sum + options.countTokens(excerpt.text), 0);
    used += tokens;
    files.push({ path: file.path, rank: index + 1, score: file.score, coverage: 'definitions', excerpts, tokens, why: file.why });
  }
  return { symbols: chosenSymbols, files, tokensUsed: used, filesOverBudget };
}

/** How a symbol is shown in the map: `src/cart.ts:12 method Cart.total`. */
export function symbolLine(hit: Pick<DefinitionHit, 'path' | 'line' | 'kind' | 'container' | 'name'>): string {
  return `${hit.path}:${hit.line} ${hit.kind} ${hit.container ? `${hit.container}.` : ''}${hit.name}`;
}

/** The named definitions' line ranges, best hit first, as many as fit; returned in line order, overlaps merged. */
function fitDefinitions(definitions: readonly DefinitionHit[], lines: readonly string[], budget: number, countTokens: TokenCounter): Excerpt[] {
  const chosen: { startLine: number; endLine: number }[] = [];
  let spent = 0;
  for (const definition of definitions) {
    const startLine = Math.max(1, definition.startLine);
    const endLine = Math.min(lines.length, definition.endLine);
    if (startLine > endLine) continue;
    // A range inside one already chosen costs nothing more.
    if (chosen.some((range) => range.startLine <= startLine && endLine <= range.endLine)) continue;
    const cost = countTokens(lines.slice(startLine - 1, endLine).join('\n'));
    if (spent + cost > budget) continue;
    spent += cost;
    chosen.push({ startLine, endLine });
  }
  // Merging can change the cost (a caller's tokenizer need not be additive): drop the
  // least wanted range until the merged excerpts fit.
  while (chosen.length > 0) {
    const excerpts = mergeRanges(chosen, lines);
    if (excerpts.reduce((sum, excerpt) => sum + countTokens(excerpt.text), 0) <= budget) return excerpts;
    chosen.pop();
  }
  return [];
}

function mergeRanges(ranges: readonly { startLine: number; endLine: number }[], lines: readonly string[]): Excerpt[] {
  const sorted = [...ranges].sort((a, b) => a.startLine - b.startLine || a.endLine - b.endLine);
  const merged: { startLine: number; endLine: number }[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.startLine <= last.endLine + 1) last.endLine = Math.max(last.endLine, range.endLine);
    else merged.push({ ...range });
  }
  return merged.map((range) => ({ ...range, text: lines.slice(range.startLine - 1, range.endLine).join('\n') }));
}
