import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IndexCacheCorruptError } from '../errors/index-cache-corrupt.error';
import type { IndexBuildCounts } from '../indexing/index-builder';
import { canonicalEntry, type IndexEntry } from '../indexing/index-entry';
import { OBJECT_ID } from '../git/tree-listing';
import { SKIP_REASONS, type SkipReason } from '../selection/skip-rules';
import { LANGUAGE_IDS, type LanguageId } from '../symbols/language-registry';
import { SYMBOL_KINDS, type SymbolDefinition, type SymbolKind } from '../symbols/symbol';

/**
 * The cached index format. Bump it whenever what is written changes meaning: every index
 * written under another number is then rejected on read and rebuilt.
 */
// 2: files marked `linguist-generated` / `linguist-vendored` in `.gitattributes` are skipped,
// and more dependency folders and generated names are recognised.
export const INDEX_FORMAT_VERSION = 2;

/** Room for the header beyond the entries, which `maxIndexBytes` bounds. */
const HEADER_ALLOWANCE_BYTES = 64 * 1024;
const TERM = /^[a-z0-9_]{2,64}$/;
const MAX_NAME_LENGTH = 200;
const MAX_PATH_LENGTH = 4096;

/** What a cached index says about itself. */
export interface IndexHeader {
  readonly format: number;
  /** A digest of the repository id: one repository's cache is never read for another. */
  readonly repositoryKey: string;
  readonly commit: string;
  /** Which files the index covers: the caller's globs and the path-level limits. */
  readonly selectionDigest: string;
  /** What an entry's analysis depends on besides the bytes: grammar and query versions, per-file caps. */
  readonly analysisDigest: string;
  /**
   * Every file had its chance (no time-budget stubs) and every file read was the commit's
   * blob: the index is exactly the commit's and may be served as it is. Otherwise it is
   * only a source of analyses for the next build.
   */
  readonly complete: boolean;
  readonly counts: IndexBuildCounts;
  /** sha256 of the entries as written; checked on read. */
  readonly entriesDigest: string;
}

/** A cached index, decoded and checked. */
export interface DecodedIndex {
  readonly header: IndexHeader;
  readonly entries: readonly IndexEntry[];
}

/** The digest that identifies an index's content: equal digests, equal entries. */
export function entriesDigestOf(entries: readonly IndexEntry[]): string {
  return createHash('sha256').update(JSON.stringify(entries.map(canonicalEntry))).digest('hex');
}

/** Serialises and compresses an index. Entries must already be in path order. */
export function encodeIndex(header: Omit<IndexHeader, 'entriesDigest' | 'format'>, entries: readonly IndexEntry[]): Buffer {
  const full: IndexHeader = { format: INDEX_FORMAT_VERSION, ...header, entriesDigest: entriesDigestOf(entries) };
  return gzipSync(Buffer.from(JSON.stringify({ header: full, entries: entries.map(canonicalEntry) }), 'utf8'));
}

/**
 * Reads a cached index without trusting it: bounded inflation (a small file cannot expand
 * into gigabytes), the format version, the repository, every field's type and range, paths
 * that stay relative and sorted, exactly the expected fields, and the digest over the
 * entries.
 *
 * @throws IndexCacheCorruptError naming the first problem found.
 */
export function decodeIndex(bytes: Buffer, expected: { readonly repositoryKey: string; readonly maxIndexBytes: number }): DecodedIndex {
  let text: string;
  try {
    text = gunzipSync(bytes, { maxOutputLength: expected.maxIndexBytes + HEADER_ALLOWANCE_BYTES }).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IndexCacheCorruptError(code === 'ERR_BUFFER_TOO_LARGE' ? 'larger than maxIndexBytes' : 'not a complete gzip stream');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IndexCacheCorruptError('not JSON');
  }
  const root = object(parsed, 'root');
  const header = object(root.header, 'header');
  if (header.format !== INDEX_FORMAT_VERSION) throw new IndexCacheCorruptError(`format ${String(header.format)}, expected ${INDEX_FORMAT_VERSION}`);
  if (header.repositoryKey !== expected.repositoryKey) throw new IndexCacheCorruptError('written for another repository');
  const commit = string(header.commit, 'header.commit');
  if (!OBJECT_ID.test(commit)) throw new IndexCacheCorruptError('header.commit is not an object id');
  const entries = array(root.entries, 'entries').map((value, index) => entryOf(value, `entries[${index}]`));
  for (let i = 1; i < entries.length; i += 1) {
    if (!((entries[i - 1] as IndexEntry).path < (entries[i] as IndexEntry).path)) throw new IndexCacheCorruptError(`entries[${i}] out of path order`);
  }
  const decoded: IndexHeader = {
    format: INDEX_FORMAT_VERSION,
    repositoryKey: expected.repositoryKey,
    commit,
    selectionDigest: hex(header.selectionDigest, 'header.selectionDigest'),
    analysisDigest: hex(header.analysisDigest, 'header.analysisDigest'),
    complete: boolean(header.complete, 'header.complete'),
    counts: countsOf(header.counts),
    entriesDigest: hex(header.entriesDigest, 'header.entriesDigest'),
  };
  if (entriesDigestOf(entries) !== decoded.entriesDigest) throw new IndexCacheCorruptError('entries do not match their digest');
  return { header: decoded, entries };
}

const ENTRY_KEYS = ['path', 'objectId', 'size', 'language', 'skipped', 'terms', 'frequencies', 'definitions', 'references', 'parseErrors', 'symbolsMissing', 'lineCount'];
const DEFINITION_KEYS = ['name', 'kind', 'line', 'startLine', 'endLine', 'container'];

function entryOf(value: unknown, at: string): IndexEntry {
  const raw = object(value, at, ENTRY_KEYS);
  const path = string(raw.path, `${at}.path`);
  if (
    path.length === 0 ||
    path.length > MAX_PATH_LENGTH ||
    path.startsWith('/') ||
    path.includes('\0') ||
    path.includes('\\') ||
    path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..' || segment === '.git')
  ) {
    throw new IndexCacheCorruptError(`${at}.path is not a plain relative path`);
  }
  const objectId = string(raw.objectId, `${at}.objectId`);
  if (!OBJECT_ID.test(objectId)) throw new IndexCacheCorruptError(`${at}.objectId is not an object id`);
  const language = raw.language === null ? null : (string(raw.language, `${at}.language`) as LanguageId);
  if (language !== null && !LANGUAGE_IDS.has(language)) throw new IndexCacheCorruptError(`${at}.language is unknown`);
  const skipped = raw.skipped === null ? null : (string(raw.skipped, `${at}.skipped`) as SkipReason);
  if (skipped !== null && !SKIP_REASONS.has(skipped)) throw new IndexCacheCorruptError(`${at}.skipped is unknown`);
  const terms = array(raw.terms, `${at}.terms`).map((term) => string(term, `${at}.terms[]`));
  terms.forEach((term, i) => {
    if (!TERM.test(term) || (i > 0 && !((terms[i - 1] as string) < term))) throw new IndexCacheCorruptError(`${at}.terms are not sorted distinct terms`);
  });
  const frequencies = array(raw.frequencies, `${at}.frequencies`).map((count) => whole(count, `${at}.frequencies[]`, 1));
  if (frequencies.length !== terms.length) throw new IndexCacheCorruptError(`${at}.frequencies do not match its terms`);
  const definitions = array(raw.definitions, `${at}.definitions`).map((definition) => definitionOf(definition, `${at}.definitions[]`));
  const references = array(raw.references, `${at}.references`).map((name) => name_(name, `${at}.references[]`));
  return {
    path,
    objectId,
    size: whole(raw.size, `${at}.size`, 0),
    language,
    skipped,
    terms,
    frequencies,
    definitions,
    references,
    parseErrors: boolean(raw.parseErrors, `${at}.parseErrors`),
    symbolsMissing: boolean(raw.symbolsMissing, `${at}.symbolsMissing`),
    lineCount: whole(raw.lineCount, `${at}.lineCount`, 0),
  };
}

function definitionOf(value: unknown, at: string): SymbolDefinition {
  const raw = object(value, at, DEFINITION_KEYS);
  const kind = string(raw.kind, `${at}.kind`) as SymbolKind;
  if (!SYMBOL_KINDS.has(kind)) throw new IndexCacheCorruptError(`${at}.kind is unknown`);
  const line = whole(raw.line, `${at}.line`, 1);
  const startLine = whole(raw.startLine, `${at}.startLine`, 1);
  const endLine = whole(raw.endLine, `${at}.endLine`, 1);
  if (!(startLine <= line && line <= endLine)) throw new IndexCacheCorruptError(`${at} lines out of order`);
  return {
    name: name_(raw.name, `${at}.name`),
    kind,
    line,
    startLine,
    endLine,
    container: raw.container === null ? null : name_(raw.container, `${at}.container`),
  };
}

function countsOf(value: unknown): IndexBuildCounts {
  const raw = object(value, 'header.counts');
  const skippedRaw = object(raw.skipped, 'header.counts.skipped');
  const skipped: Partial<Record<SkipReason, number>> = {};
  for (const [reason, count] of Object.entries(skippedRaw)) {
    if (!SKIP_REASONS.has(reason as SkipReason)) throw new IndexCacheCorruptError('header.counts.skipped has an unknown reason');
    skipped[reason as SkipReason] = whole(count, 'header.counts.skipped[]', 0);
  }
  return {
    listed: whole(raw.listed, 'header.counts.listed', 0),
    excluded: whole(raw.excluded, 'header.counts.excluded', 0),
    analysed: whole(raw.analysed, 'header.counts.analysed', 0),
    reused: whole(raw.reused, 'header.counts.reused', 0),
    differingFromCommit: whole(raw.differingFromCommit, 'header.counts.differingFromCommit', 0),
    skipped,
  };
}

/** An object; with `keys`, one with exactly those keys (nothing unchecked rides along). */
function object(value: unknown, at: string, keys?: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IndexCacheCorruptError(`${at} is not an object`);
  if (keys) {
    const present = Object.keys(value);
    if (present.length !== keys.length || !keys.every((key) => Object.hasOwn(value, key))) throw new IndexCacheCorruptError(`${at} has other fields than expected`);
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new IndexCacheCorruptError(`${at} is not an array`);
  return value;
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new IndexCacheCorruptError(`${at} is not a string`);
  return value;
}

function name_(value: unknown, at: string): string {
  const text = string(value, at);
  if (text.length === 0 || text.length > MAX_NAME_LENGTH) throw new IndexCacheCorruptError(`${at} has a bad length`);
  return text;
}

function hex(value: unknown, at: string): string {
  const text = string(value, at);
  if (!/^[0-9a-f]{64}$/.test(text)) throw new IndexCacheCorruptError(`${at} is not a sha256 digest`);
  return text;
}

function boolean(value: unknown, at: string): boolean {
  if (typeof value !== 'boolean') throw new IndexCacheCorruptError(`${at} is not a boolean`);
  return value;
}

function whole(value: unknown, at: string, minimum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) throw new IndexCacheCorruptError(`${at} is not a whole number ≥ ${minimum}`);
  return value;
}
