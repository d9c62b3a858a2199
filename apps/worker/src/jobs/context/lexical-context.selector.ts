import { lstat, readFile, realpath } from 'node:fs/promises';
import { basename, extname, join, sep } from 'node:path';
import { PathFilter } from '@airlock/context-engine';
import type { GitRunner } from '../../git/git-runner';
import type { ContextFile, ContextRequest, ContextSelector } from './context-selector';

const MAX_FILE_BYTES = 256 * 1024;
const PATH_WEIGHT = 3;
const BM25_K1 = 1.2;
const BM25_B = 0.75;
const STOPWORDS = new Set(
  'the a an and or of to in on for is it be as at by with from this that when should not but are was were has have do does fix bug issue error returns return wrong'.split(' '),
);
const TEST_FILE = /(^|[/._-])(test|tests|spec|__tests__)([/._-]|$)/i;

/** Splits text into lower-case terms: words plus the parts of camelCase and snake_case identifiers. */
export function tokenize(text: string): string[] {
  const terms: string[] = [];
  for (const word of text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    const lower = word.toLowerCase();
    if (lower.length >= 2 && !STOPWORDS.has(lower)) terms.push(lower);
    const parts = word.split(/_+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/).filter(Boolean);
    if (parts.length > 1) {
      for (const part of parts) {
        const p = part.toLowerCase();
        if (p.length >= 2 && !STOPWORDS.has(p)) terms.push(p);
      }
    }
  }
  return terms;
}

interface Candidate {
  readonly path: string;
  readonly content: string;
  readonly terms: Map<string, number>;
  readonly length: number;
  score: number;
}

/**
 * Lexical ranking (BM25 over path and content terms, path terms weighted up), then the
 * test files that mention a top-ranked file's base name, then as many as fit the budget.
 */
export class LexicalContextSelector implements ContextSelector {
  constructor(private readonly git: GitRunner) {}

  async select(request: ContextRequest): Promise<readonly ContextFile[]> {
    const candidates = await this.readCandidates(request);
    const query = [...new Set(tokenize(`${request.ticket.title}\n${request.ticket.description}`))];
    if (candidates.length === 0 || query.length === 0) return [];
    const averageLength = candidates.reduce((sum, c) => sum + c.length, 0) / candidates.length;
    for (const term of query) {
      const containing = candidates.filter((c) => c.terms.has(term)).length;
      if (containing === 0) continue;
      const idf = Math.log(1 + (candidates.length - containing + 0.5) / (containing + 0.5));
      for (const candidate of candidates) {
        const tf = candidate.terms.get(term) ?? 0;
        if (tf === 0) continue;
        candidate.score += (idf * tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * candidate.length) / averageLength));
      }
    }
    const ranked = candidates.filter((c) => c.score > 0).sort((a, b) => b.score - a.score || a.path.localeCompare(b.path));
    const ordered = withRelatedTests(ranked, candidates, request.maxFiles);
    const chosen: ContextFile[] = [];
    let bytes = 0;
    for (const candidate of ordered) {
      if (chosen.length >= request.maxFiles) break;
      const size = Buffer.byteLength(candidate.content, 'utf8');
      if (bytes + size > request.maxBytes) continue;
      bytes += size;
      chosen.push({ path: candidate.path, content: candidate.content });
    }
    return chosen;
  }

  private async readCandidates(request: ContextRequest): Promise<Candidate[]> {
    const { stdout } = await this.git.run(['ls-files', '-z'], { cwd: request.worktree, signal: request.signal, timeoutMs: 60_000 });
    const filter = new PathFilter(request.include, request.exclude);
    const candidates: Candidate[] = [];
    const worktreeRoot = `${await realpath(request.worktree)}${sep}`;
    for (const path of stdout.split('\0').filter((p) => p && filter.selects(p))) {
      const absolute = join(request.worktree, path);
      try {
        // A tracked symlink could point at the worker's own keys or any host file, which
        // would then be sent to the model and could end up in the patch: links are skipped,
        // and so is anything that resolves outside the worktree.
        const info = await lstat(absolute);
        if (!info.isFile() || info.size === 0 || info.size > Math.min(MAX_FILE_BYTES, request.maxBytes)) continue;
        if (!(await realpath(absolute)).startsWith(worktreeRoot)) continue;
        const buffer = await readFile(absolute);
        if (buffer.subarray(0, 8192).includes(0)) continue; // binary
        const content = buffer.toString('utf8');
        const terms = new Map<string, number>();
        const add = (term: string, weight: number) => terms.set(term, (terms.get(term) ?? 0) + weight);
        tokenize(path.replace(/[/.]/g, ' ')).forEach((term) => add(term, PATH_WEIGHT));
        const contentTerms = tokenize(content);
        contentTerms.forEach((term) => add(term, 1));
        candidates.push({ path, content, terms, length: contentTerms.length + 1, score: 0 });
      } catch {
        // A file deleted or unreadable between ls-files and read is simply not context.
      }
    }
    return candidates;
  }
}

/** Puts tests that mention a top-ranked file right after it, so the model sees how it is tested. */
function withRelatedTests(ranked: readonly Candidate[], all: readonly Candidate[], maxFiles: number): Candidate[] {
  const ordered: Candidate[] = [];
  const seen = new Set<string>();
  const push = (candidate: Candidate) => {
    if (!seen.has(candidate.path)) {
      seen.add(candidate.path);
      ordered.push(candidate);
    }
  };
  const top = ranked.slice(0, Math.max(1, Math.ceil(maxFiles / 2)));
  for (const candidate of top) {
    push(candidate);
    if (TEST_FILE.test(candidate.path)) continue;
    const stem = basename(candidate.path, extname(candidate.path));
    if (stem.length < 3) continue;
    for (const other of all) {
      if (other !== candidate && TEST_FILE.test(other.path) && other.content.includes(stem)) push(other);
    }
  }
  ranked.forEach(push);
  return ordered;
}
