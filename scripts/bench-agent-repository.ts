/**
 * The large repository `bench:agent` measures against: a seeded, deterministic monorepo of
 * TypeScript, JavaScript, Python, Go and Java sources (identifiers, doc comments, imports
 * between siblings), with a vendored tree, generated code, lockfiles, JSON fixtures, a few
 * binaries and oversized files — the mix the context engine's skip rules and the worker's
 * checkout meet in a customer's monorepo. Written straight into a bare repository with
 * `git fast-import` (no work tree, no `git add` of tens of thousands of files), then packed
 * as a server would hold it.
 *
 * Two commits: `refs/heads/main` (the base) and `refs/bench/next` (~1% of the source files
 * changed). The second lives outside `refs/heads/` so that neither a clone nor the worker's
 * branch-only mirror fetch sees it until the benchmark moves `main` onto it.
 */
import { spawn } from 'node:child_process';

/** One generated path and what it is, for picking the files the second commit changes. */
interface PlannedFile {
  readonly path: string;
  readonly kind: FileKind;
  /** Seeds the file's content: same index, same bytes, every run. */
  readonly seed: number;
  /** Words the file is about: they name its definitions. */
  readonly topic: readonly [string, string];
}

type FileKind = 'ts' | 'ts-test' | 'js' | 'py' | 'go' | 'java' | 'vendored-go' | 'vendored-js' | 'generated-go' | 'generated-ts' | 'markdown' | 'json' | 'lockfile' | 'large-json' | 'binary';

/** A definition the generator wrote, so that queries can name real code. */
export interface GeneratedDefinition {
  readonly name: string;
  readonly path: string;
  /** The words the name is made of, as a person would write them in a ticket. */
  readonly words: readonly string[];
}

export interface GeneratedRepository {
  readonly baseCommit: string;
  readonly nextCommit: string;
  readonly files: number;
  /** Source files the second commit rewrote. */
  readonly changedFiles: number;
  readonly bytes: number;
  readonly packBytes: number;
  /** A sample of the definitions written (every 25th file's first one), for retrieval queries. */
  readonly definitions: readonly GeneratedDefinition[];
  readonly kinds: Readonly<Partial<Record<FileKind, number>>>;
  readonly generateMs: number;
  readonly repackMs: number;
}

export const NEXT_REF = 'refs/bench/next';
const BASE_BRANCH = 'main';
/** A fixed identity and date: the same seed and size give the same commit ids on every machine. */
const COMMITTER = 'Airlock Bench <bench@airlock.invalid> 946684800 +0000';

/** mulberry32: small, fast, and the same sequence on every platform for one seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOUNS = (
  'account address invoice payment coupon discount order cart customer shipment warehouse inventory ledger refund tax currency price ' +
  'subscription plan trial session token user role permission audit event queue job retry schedule report export csv email notification ' +
  'template webhook signature certificate tenant region cluster metric trace span cache search query filter page cursor batch stream chunk ' +
  'upload download image thumbnail payload schema migration column record snapshot backup quota limit rate window bucket lease lock worker ' +
  'pipeline stage artifact release deploy rollback feature flag experiment variant cohort segment campaign referral reward loyalty balance ' +
  'transfer wallet card settlement payout dispute chargeback fraud risk score rule policy consent profile avatar preference locale timezone ' +
  'calendar booking slot reservation ticket seat venue route distance carrier label tracking parcel vendor supplier catalog product bundle'
).split(' ');
const VERBS = (
  'get set compute calculate validate parse format build create update delete find load save apply resolve normalize serialize fetch sync ' +
  'merge split reconcile schedule cancel retry refresh render encode decode sign verify emit handle process dispatch collect aggregate ' +
  'estimate convert round check ensure register publish'
).split(' ');
const ADJECTIVES = 'expired negative empty duplicate missing stale invalid partial rounded delayed pending archived large concurrent nested zero'.split(' ');
const SERVICES = (
  'billing checkout identity catalog shipping payments notifications search analytics reporting scheduler gateway accounts loyalty ' +
  'fraud pricing inventory fulfilment onboarding support ledger exports imports media reviews'
).split(' ');
const AREAS = 'api domain handlers models repositories services utils workers adapters jobs'.split(' ');
const ROLES = 'service handler model repository controller client store mapper policy validator'.split(' ');

const pick = <T>(random: () => number, values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
const capital = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
const camel = (words: readonly string[]): string => words.map((word, index) => (index === 0 ? word : capital(word))).join('');
const pascal = (words: readonly string[]): string => words.map(capital).join('');
const snake = (words: readonly string[]): string => words.join('_');
const past = (verb: string): string => (verb.endsWith('e') ? `${verb}d` : `${verb}ed`);

/** A comment sentence about the topic, in the words a ticket would use. */
function sentence(random: () => number, topic: readonly string[]): string {
  const [a, b] = topic;
  const forms = [
    `Returns the ${a} ${b} for the given ${pick(random, NOUNS)}, or nothing when it is ${pick(random, ADJECTIVES)}.`,
    `The ${pick(random, NOUNS)} must be ${pick(random, ADJECTIVES)} before the ${a} is ${past(pick(random, VERBS))}.`,
    `Keeps ${a} ${b} in step with the ${pick(random, NOUNS)} ${pick(random, NOUNS)}; see the ${pick(random, SERVICES)} service.`,
    `A ${pick(random, ADJECTIVES)} ${b} is ignored here: the caller has already ${past(pick(random, VERBS))} it.`,
    `Why: the ${pick(random, NOUNS)} may arrive ${pick(random, ADJECTIVES)}, so the ${b} is checked again.`,
  ];
  return pick(random, forms);
}

interface Definition {
  readonly name: string;
  readonly words: readonly string[];
}

/** Names of a file's functions: a verb and the topic, or the topic and another noun. */
function definitionsFor(random: () => number, topic: readonly [string, string], count: number): Definition[] {
  const definitions: Definition[] = [];
  for (let i = 0; i < count; i += 1) {
    const words = i === 0 ? [pick(random, VERBS), topic[0], topic[1]] : [pick(random, VERBS), pick(random, [topic[0], topic[1]]), pick(random, NOUNS)];
    definitions.push({ name: camel(words), words });
  }
  return definitions;
}

function typescript(random: () => number, file: PlannedFile, siblings: readonly string[], version: number): { text: string; definitions: Definition[] } {
  const definitions = definitionsFor(random, file.topic, 3 + Math.floor(random() * 6));
  const type = pascal([...file.topic, pick(random, ['options', 'state', 'result', 'input'])]);
  const lines: string[] = [];
  for (const sibling of siblings) lines.push(`import { ${camel([pick(random, VERBS), ...sibling.split('-').slice(0, 2)])} } from './${sibling}';`);
  lines.push(`import type { ${pascal([pick(random, NOUNS), 'context'])} } from '../models/${pick(random, NOUNS)}';`, '');
  lines.push('/**', ` * ${sentence(random, file.topic)}`, ` * ${sentence(random, file.topic)}`, ' */');
  lines.push(`export interface ${type} {`);
  for (let i = 0; i < 3 + Math.floor(random() * 4); i += 1) lines.push(`  readonly ${camel([pick(random, NOUNS), pick(random, NOUNS)])}: ${pick(random, ['string', 'number', 'boolean', 'readonly string[]', 'Date'])};`);
  lines.push('}', '');
  for (const definition of definitions) {
    const [arg, other] = [pick(random, NOUNS), pick(random, NOUNS)];
    lines.push(`/** ${sentence(random, file.topic)} */`);
    lines.push(`export function ${definition.name}(${arg}: ${type}, ${other}Count: number): number {`);
    lines.push(`  // ${sentence(random, file.topic)}`);
    lines.push(`  let ${camel([file.topic[1], 'total'])} = ${Math.floor(random() * 100)};`);
    lines.push(`  for (let index = 0; index < ${other}Count; index += 1) {`);
    lines.push(`    ${camel([file.topic[1], 'total'])} += index * ${(random() * 10).toFixed(2)};`);
    lines.push('  }');
    lines.push(`  if (${arg}.${camel([pick(random, NOUNS), 'id'])} === undefined) throw new Error('${pick(random, ADJECTIVES)} ${file.topic.join(' ')}');`);
    lines.push(`  return Math.round(${camel([file.topic[1], 'total'])});`, '}', '');
  }
  lines.push(`export class ${pascal([...file.topic, pick(random, ROLES)])} {`);
  lines.push(`  private readonly ${camel([file.topic[0], 'cache'])} = new Map<string, number>();`, '');
  for (let i = 0; i < 2 + Math.floor(random() * 3); i += 1) {
    lines.push(`  /** ${sentence(random, file.topic)} */`);
    lines.push(`  async ${camel([pick(random, VERBS), pick(random, NOUNS)])}(key: string): Promise<number | undefined> {`);
    lines.push(`    return this.${camel([file.topic[0], 'cache'])}.get(key) ?? ${definitions[0]?.name ?? 'Number'}({} as never, ${i + 1});`, '  }', '');
  }
  if (version > 0) lines.push(`  /** Added in revision ${version}: ${sentence(random, file.topic)} */`, `  ${camel(['revision', String(version)])}(): number {`, `    return ${version};`, '  }');
  lines.push('}', '');
  return { text: lines.join('\n'), definitions };
}

function javascript(random: () => number, file: PlannedFile, siblings: readonly string[], version: number): { text: string; definitions: Definition[] } {
  const definitions = definitionsFor(random, file.topic, 3 + Math.floor(random() * 5));
  const lines = ["'use strict';", ''];
  for (const sibling of siblings) lines.push(`const ${camel(sibling.split('-').slice(0, 2))} = require('./${sibling}');`);
  lines.push('');
  for (const definition of definitions) {
    lines.push('/**', ` * ${sentence(random, file.topic)}`, ` * @param {object} ${file.topic[0]}`, ' * @returns {number}', ' */');
    lines.push(`function ${definition.name}(${file.topic[0]}, options = {}) {`);
    lines.push(`  // ${sentence(random, file.topic)}`);
    lines.push(`  const ${camel([file.topic[1], 'list'])} = Object.keys(${file.topic[0]} || {});`);
    lines.push(`  if (${camel([file.topic[1], 'list'])}.length === 0 && !options.${camel(['allow', pick(random, ADJECTIVES)])}) return ${Math.floor(random() * 10)};`);
    lines.push(`  return ${camel([file.topic[1], 'list'])}.reduce((sum, key) => sum + String(key).length * ${(random() * 3).toFixed(2)}, 0);`, '}', '');
  }
  if (version > 0) lines.push(`// Revision ${version}: ${sentence(random, file.topic)}`, `function ${camel(['revision', String(version)])}() { return ${version}; }`, '');
  lines.push(`module.exports = { ${definitions.map((definition) => definition.name).join(', ')} };`, '');
  return { text: lines.join('\n'), definitions };
}

function python(random: () => number, file: PlannedFile, siblings: readonly string[], version: number): { text: string; definitions: Definition[] } {
  const definitions = definitionsFor(random, file.topic, 3 + Math.floor(random() * 5)).map((definition) => ({ ...definition, name: snake(definition.words) }));
  const lines = [`"""${sentence(random, file.topic)}"""`, '', 'from __future__ import annotations', '', 'import dataclasses', 'import logging', ''];
  for (const sibling of siblings) lines.push(`from . import ${sibling.replace(/-/g, '_')}`);
  lines.push('', 'logger = logging.getLogger(__name__)', `${snake(['default', ...file.topic]).toUpperCase()} = ${Math.floor(random() * 1000)}`, '', '');
  lines.push('@dataclasses.dataclass(frozen=True)', `class ${pascal([...file.topic])}:`, `    """${sentence(random, file.topic)}"""`, '');
  for (let i = 0; i < 3; i += 1) lines.push(`    ${snake([pick(random, NOUNS), pick(random, NOUNS)])}: ${pick(random, ['str', 'int', 'float', 'bool'])}`);
  lines.push('', '');
  for (const definition of definitions) {
    lines.push(`def ${definition.name}(${file.topic[0]}: ${pascal([...file.topic])}, limit: int = ${Math.floor(random() * 50)}) -> int:`);
    lines.push(`    """${sentence(random, file.topic)}"""`);
    lines.push(`    # ${sentence(random, file.topic)}`);
    lines.push(`    ${snake([file.topic[1], 'total'])} = 0`);
    lines.push('    for index in range(limit):', `        ${snake([file.topic[1], 'total'])} += index * ${(random() * 5).toFixed(2)}`);
    lines.push(`    if not ${file.topic[0]}:`, `        logger.warning("${pick(random, ADJECTIVES)} ${file.topic.join(' ')}")`, `    return int(${snake([file.topic[1], 'total'])})`, '', '');
  }
  if (version > 0) lines.push(`def revision_${version}() -> int:`, `    """${sentence(random, file.topic)}"""`, `    return ${version}`, '');
  return { text: lines.join('\n'), definitions };
}

function go(random: () => number, file: PlannedFile, siblings: readonly string[], version: number, packageName: string): { text: string; definitions: Definition[] } {
  const definitions = definitionsFor(random, file.topic, 3 + Math.floor(random() * 5)).map((definition) => ({ ...definition, name: pascal(definition.words) }));
  const struct = pascal([...file.topic]);
  const lines = [`// Package ${packageName} ${sentence(random, file.topic).toLowerCase()}`, `package ${packageName}`, '', 'import (', '\t"errors"', '\t"fmt"'];
  if (siblings.length > 0) lines.push(`\t"example.com/acme/go/${siblings[0]?.split('-')[0] ?? 'core'}"`);
  lines.push(')', '', `// ${struct} ${sentence(random, file.topic).toLowerCase()}`, `type ${struct} struct {`);
  for (let i = 0; i < 3; i += 1) lines.push(`\t${pascal([pick(random, NOUNS), pick(random, NOUNS)])} ${pick(random, ['string', 'int64', 'bool', 'float64'])}`);
  lines.push('}', '');
  for (const definition of definitions) {
    lines.push(`// ${definition.name} ${sentence(random, file.topic).toLowerCase()}`);
    lines.push(`func (s *${struct}) ${definition.name}(limit int) (int, error) {`);
    lines.push('\tif s == nil {', `\t\treturn 0, errors.New("${pick(random, ADJECTIVES)} ${file.topic.join(' ')}")`, '\t}');
    lines.push('\ttotal := 0', '\tfor i := 0; i < limit; i++ {', `\t\ttotal += i * ${Math.floor(random() * 9) + 1}`, '\t}');
    lines.push(`\treturn total, fmt.Errorf("${camel(file.topic)}: %d", total)`, '}', '');
  }
  if (version > 0) lines.push(`// Revision${version} ${sentence(random, file.topic).toLowerCase()}`, `func Revision${version}() int { return ${version} }`, '');
  return { text: lines.join('\n'), definitions };
}

function java(random: () => number, file: PlannedFile, version: number, packageName: string): { text: string; definitions: Definition[] } {
  const definitions = definitionsFor(random, file.topic, 3 + Math.floor(random() * 5));
  const type = pascal([...file.topic, pick(random, ROLES)]);
  const lines = [`package com.acme.${packageName};`, '', 'import java.util.List;', 'import java.util.Map;', 'import java.util.Optional;', ''];
  lines.push('/**', ` * ${sentence(random, file.topic)}`, ' */', `public final class ${type} {`);
  lines.push(`    private final Map<String, Long> ${camel([file.topic[0], 'cache'])};`, '');
  lines.push(`    public ${type}(Map<String, Long> ${camel([file.topic[0], 'cache'])}) {`, `        this.${camel([file.topic[0], 'cache'])} = ${camel([file.topic[0], 'cache'])};`, '    }', '');
  for (const definition of definitions) {
    lines.push(`    /** ${sentence(random, file.topic)} */`);
    lines.push(`    public Optional<Long> ${definition.name}(List<String> ${file.topic[1]}Keys) {`);
    lines.push(`        // ${sentence(random, file.topic)}`);
    lines.push(`        long total = ${Math.floor(random() * 100)}L;`);
    lines.push(`        for (String key : ${file.topic[1]}Keys) {`, `            total += ${camel([file.topic[0], 'cache'])}.getOrDefault(key, 0L);`, '        }');
    lines.push('        return total > 0 ? Optional.of(total) : Optional.empty();', '    }', '');
  }
  if (version > 0) lines.push(`    /** Revision ${version}. */`, `    public int revision${version}() {`, `        return ${version};`, '    }');
  lines.push('}', '');
  return { text: lines.join('\n'), definitions };
}

/** Protobuf-style generated Go: long, repetitive, marked so the engine lists it without content. */
function generatedGo(random: () => number, file: PlannedFile, packageName: string): string {
  const lines = ['// Code generated by protoc-gen-go. DO NOT EDIT.', `// source: ${file.topic.join('_')}.proto`, '', `package ${packageName}`, ''];
  for (let i = 0; i < 40; i += 1) {
    const field = pascal([pick(random, NOUNS), pick(random, NOUNS)]);
    lines.push(`func (x *${pascal([...file.topic])}) Get${field}() string {`, '\tif x != nil {', `\t\treturn x.${field}`, '\t}', '\treturn ""', '}', '');
  }
  return lines.join('\n');
}

function generatedTs(random: () => number, file: PlannedFile): string {
  const lines = ['// @generated by openapi-typescript. Do not edit by hand.', `// source: ${file.topic.join('-')}.openapi.yaml`, ''];
  for (let i = 0; i < 30; i += 1) lines.push(`export interface ${pascal([pick(random, NOUNS), pick(random, NOUNS), 'dto'])} {`, `  ${camel([pick(random, NOUNS), 'id'])}: string;`, `  ${camel([pick(random, NOUNS), 'count'])}?: number;`, '}', '');
  return lines.join('\n');
}

function contentOf(file: PlannedFile, siblings: readonly string[], version: number): { text: string | Buffer; definitions: Definition[] } {
  // Each version of a file has its own stream, so a change rewrites the body like an edit would.
  const random = prng(file.seed * 31 + version);
  const directory = file.path.split('/').slice(-2, -1)[0] ?? 'core';
  switch (file.kind) {
    case 'ts':
    case 'vendored-js':
      return typescript(random, file, siblings, version);
    case 'ts-test': {
      const { text, definitions } = typescript(random, file, siblings, version);
      return { text: `import { describe, it } from 'node:test';\n${text}\ndescribe('${file.topic.join(' ')}', () => {\n  it('${sentence(random, file.topic)}', () => undefined);\n});\n`, definitions };
    }
    case 'js':
      return javascript(random, file, siblings, version);
    case 'py':
      return python(random, file, siblings, version);
    case 'go':
    case 'vendored-go':
      return go(random, file, siblings, version, directory.replace(/[^a-z]/g, ''));
    case 'java':
      return java(random, file, version, directory.replace(/[^a-z]/g, ''));
    case 'generated-go':
      return { text: generatedGo(random, file, directory), definitions: [] };
    case 'generated-ts':
      return { text: generatedTs(random, file), definitions: [] };
    case 'markdown':
      return { text: `# ${capital(file.topic.join(' '))}\n\n${Array.from({ length: 6 }, () => sentence(random, file.topic)).join('\n')}\n`, definitions: [] };
    case 'json':
      return { text: `${JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, () => [camel([pick(random, NOUNS), pick(random, NOUNS)]), Math.floor(random() * 1e6)])), null, 2)}\n`, definitions: [] };
    case 'lockfile':
      return { text: `${JSON.stringify({ lockfileVersion: 3, packages: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`node_modules/${pick(random, NOUNS)}-${i}`, { version: `1.${i}.0` }])) }, null, 2)}\n`, definitions: [] };
    case 'large-json':
      // Past the engine's 256 KiB maxFileBytes: listed, never read.
      return { text: `[${Array.from({ length: 9000 }, (_, i) => `{"${pick(random, NOUNS)}":${i},"${pick(random, NOUNS)}":"${pick(random, ADJECTIVES)}"}`).join(',\n')}]\n`, definitions: [] };
    case 'binary': {
      const bytes = Buffer.alloc(4096 + Math.floor(random() * 4096));
      for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(random() * 256);
      return { text: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), bytes]), definitions: [] };
    }
  }
}

/**
 * The repository's layout: services of TypeScript (with tests), packages of JavaScript,
 * Python, Go and Java modules, 8% vendored, ~4% generated, and the odd lockfile, fixture,
 * README, oversized or binary file. Deterministic in (fileCount, seed).
 */
function plan(fileCount: number, seed: number): PlannedFile[] {
  const random = prng(seed);
  // Folders grow with the repository, slower than files: about 10 files a folder at 50,000
  // files, as in real monorepos (a folder per file would make checkouts all mkdir).
  const breadth = Math.sqrt(fileCount / 50_000);
  const services = SERVICES.slice(0, Math.max(3, Math.min(SERVICES.length, Math.round(SERVICES.length * breadth))));
  const shards = Math.max(1, Math.round(4 * breadth));
  const vendoredModules = Array.from({ length: Math.max(4, Math.round(60 * breadth)) }, (_, i) => `${NOUNS[i % NOUNS.length]}/${NOUNS[(i * 7 + 3) % NOUNS.length]}`);
  const files: PlannedFile[] = [];
  const used = new Set<string>();
  const add = (path: string, kind: FileKind, topic: readonly [string, string]): void => {
    if (used.has(path)) return;
    used.add(path);
    files.push({ path, kind, seed: files.length + 1, topic });
  };
  const mix: ReadonlyArray<readonly [FileKind, number]> = [
    ['ts', 0.27],
    ['ts-test', 0.07],
    ['js', 0.12],
    ['py', 0.17],
    ['go', 0.13],
    ['java', 0.1],
    ['vendored-go', 0.05],
    ['vendored-js', 0.03],
    ['generated-go', 0.025],
    ['generated-ts', 0.015],
    ['markdown', 0.01],
    ['json', 0.01],
  ];
  while (files.length < fileCount) {
    const roll = random();
    let cumulative = 0;
    let kind: FileKind = 'ts';
    for (const [candidate, share] of mix) {
      cumulative += share;
      if (roll < cumulative) {
        kind = candidate;
        break;
      }
    }
    const topic: [string, string] = [pick(random, NOUNS), pick(random, NOUNS)];
    const service = pick(random, services);
    const area = pick(random, AREAS);
    const role = pick(random, ROLES);
    const shard = Math.floor(random() * shards);
    const base = `${topic[0]}-${topic[1]}-${role}`;
    switch (kind) {
      case 'ts':
        add(`services/${service}/src/${area}/${shard}/${base}.ts`, kind, topic);
        break;
      case 'ts-test':
        add(`services/${service}/test/${area}/${base}.spec.ts`, kind, topic);
        break;
      case 'js':
        add(`packages/${service}-${pick(random, ['sdk', 'cli', 'ui', 'utils'])}/lib/${shard}/${base}.js`, kind, topic);
        break;
      case 'py':
        add(`python/${service}/${area}/${shard}/${base.replace(/-/g, '_')}.py`, kind, topic);
        break;
      case 'go':
        add(`go/${service}/${area}${shard}/${base.replace(/-/g, '_')}.go`, kind, topic);
        break;
      case 'java':
        add(`java/${service}/src/main/java/com/acme/${area}${shard}/${pascal([...topic, role])}.java`, kind, topic);
        break;
      case 'vendored-go':
        add(`go/vendor/github.com/${pick(random, vendoredModules)}/${base.replace(/-/g, '_')}.go`, kind, topic);
        break;
      case 'vendored-js':
        add(`packages/${service}-ui/third_party/${pick(random, vendoredModules).split('/')[0] ?? 'lib'}/${base}.ts`, kind, topic);
        break;
      case 'generated-go':
        add(`go/${service}/proto/${pick(random, NOUNS.slice(0, 8))}pb/${topic[0]}_${topic[1]}.pb.go`, kind, topic);
        break;
      case 'generated-ts':
        add(`services/${service}/src/generated/${base}.ts`, kind, topic);
        break;
      case 'markdown':
        add(`docs/${service}/${base}.md`, kind, topic);
        break;
      case 'json':
        add(`services/${service}/fixtures/${base}.json`, kind, topic);
        break;
      default:
        break;
    }
    // Rare kinds at fixed intervals, so small and large runs hold them alike.
    if (files.length % 1500 === 0) add(`packages/${service}-sdk/package-lock.json`, 'lockfile', topic);
    if (files.length % 2500 === 0) add(`services/${service}/fixtures/large/${base}.json`, 'large-json', topic);
    if (files.length % 1000 === 0) add(`services/${service}/assets/${base}.png`, 'binary', topic);
  }
  return files.slice(0, fileCount).sort((a, b) => (a.path < b.path ? -1 : 1));
}

const SOURCE_KINDS: ReadonlySet<FileKind> = new Set(['ts', 'ts-test', 'js', 'py', 'go', 'java']);

/** Siblings a file imports: its neighbours in path order within the same folder. */
function siblingsOf(files: readonly PlannedFile[], index: number): string[] {
  const folder = (path: string): string => path.slice(0, path.lastIndexOf('/'));
  const stem = (path: string): string => path.slice(path.lastIndexOf('/') + 1).replace(/\.[a-z.]+$/, '');
  const own = files[index];
  if (!own) return [];
  return [files[index - 1], files[index + 1]].filter((file): file is PlannedFile => file !== undefined && folder(file.path) === folder(own.path)).map((file) => stem(file.path));
}

/** Runs git with a clean environment; rejects with its stderr. */
function git(args: readonly string[], cwd: string, input?: NodeJS.ReadableStream | ((stdin: NodeJS.WritableStream) => Promise<void>)): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LANG: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`git ${args.join(' ')} exited ${code}: ${stderr.trim().slice(0, 2000)}`))));
    if (typeof input === 'function') {
      input(child.stdin).then(
        () => child.stdin.end(),
        (error: unknown) => {
          child.kill('SIGKILL');
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    } else child.stdin.end();
  });
}

/** Writes to a pipe, waiting for it to drain when its buffer is full (fast-import reads slower than we write). */
function writer(stdin: NodeJS.WritableStream): (chunk: string | Buffer) => Promise<void> {
  return (chunk) => (stdin.write(chunk) ? Promise.resolve() : new Promise((resolve) => stdin.once('drain', () => resolve())));
}

/**
 * Generates the repository into `bareDir` (created, bare, default branch `main`), packs it,
 * and returns its commits and what it holds. `fileCount` files at the base; the next
 * commit rewrites ~1% of the source files.
 */
export async function generateRepository(bareDir: string, fileCount: number, seed = 20_240_601): Promise<GeneratedRepository> {
  const started = performance.now();
  await git(['init', '--bare', '--quiet', '--initial-branch', BASE_BRANCH, bareDir], '/');
  const files = plan(fileCount, seed);
  const definitions: GeneratedDefinition[] = [];
  const kinds: Partial<Record<FileKind, number>> = {};
  const changeRandom = prng(seed ^ 0x5eed);
  const changed = files.map((file, index) => ({ file, index })).filter(({ file }) => SOURCE_KINDS.has(file.kind) && changeRandom() < 0.012);
  let bytes = 0;
  await git(['fast-import', '--quiet', '--done'], bareDir, async (stdin) => {
    const write = writer(stdin);
    const message = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
    await write(`commit refs/heads/${BASE_BRANCH}\nmark :1\ncommitter ${COMMITTER}\n${message(`synthetic monorepo: ${fileCount} files`)}`);
    for (const [index, file] of files.entries()) {
      const { text, definitions: defined } = contentOf(file, siblingsOf(files, index), 0);
      const content = typeof text === 'string' ? Buffer.from(text) : text;
      bytes += content.length;
      kinds[file.kind] = (kinds[file.kind] ?? 0) + 1;
      const first = defined[0];
      if (index % 25 === 0 && first && SOURCE_KINDS.has(file.kind)) definitions.push({ name: first.name, path: file.path, words: first.words });
      await write(`M 100644 inline ${file.path}\ndata ${content.length}\n`);
      await write(content);
      await write('\n');
    }
    await write(`\ncommit ${NEXT_REF}\nmark :2\ncommitter ${COMMITTER}\n${message(`change ${changed.length} files`)}from :1\n`);
    for (const { file, index } of changed) {
      const { text } = contentOf(file, siblingsOf(files, index), 1);
      const content = typeof text === 'string' ? Buffer.from(text) : text;
      await write(`M 100644 inline ${file.path}\ndata ${content.length}\n`);
      await write(content);
      await write('\n');
    }
    await write('\ndone\n');
  });
  const generateMs = performance.now() - started;
  // fast-import's pack has few deltas; a server's repository is packed (and what a clone
  // transfers is then read from that pack), so pack it as one would be.
  const repackStarted = performance.now();
  await git(['repack', '-a', '-d', '-q'], bareDir);
  const repackMs = performance.now() - repackStarted;
  const [baseCommit, nextCommit] = (await git(['rev-parse', `refs/heads/${BASE_BRANCH}`, NEXT_REF], bareDir)).trim().split('\n');
  const packs = (await git(['count-objects', '-v'], bareDir)).match(/size-pack: (\d+)/);
  if (!baseCommit || !nextCommit) throw new Error('fast-import left no commits');
  return {
    baseCommit,
    nextCommit,
    files: files.length,
    changedFiles: changed.length,
    bytes,
    packBytes: Number(packs?.[1] ?? 0) * 1024,
    definitions,
    kinds,
    generateMs,
    repackMs,
  };
}

/** Points `main` of the origin at `commit`: to the second one, it is a push of ~1% of the files as the next job sees it. */
export async function moveMain(bareDir: string, commit: string): Promise<void> {
  await git(['update-ref', `refs/heads/${BASE_BRANCH}`, commit], bareDir);
}

/** Words of the vocabulary, for queries that name no definition at all. */
export const QUERY_VOCABULARY = { nouns: NOUNS, verbs: VERBS, adjectives: ADJECTIVES, services: SERVICES } as const;
export { prng };
