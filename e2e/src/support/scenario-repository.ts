import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

const GIT_IDENTITY = ['-c', 'user.name=Customer', '-c', 'user.email=dev@customer.example', '-c', 'commit.gpgsign=false'];

/** Creates `<gitDir>/<name>.git` holding `files` in one commit on main. */
export function createBareRepository(gitDir: string, name: string, files: Readonly<Record<string, string>>): void {
  const work = mkdtempSync(join(tmpdir(), 'airlock-e2e-repo-'));
  try {
    writeFiles(work, files);
    execFileSync('git', [...GIT_IDENTITY, 'init', '--quiet', '--initial-branch', 'main'], { cwd: work });
    execFileSync('git', [...GIT_IDENTITY, 'add', '--all'], { cwd: work });
    execFileSync('git', [...GIT_IDENTITY, 'commit', '--quiet', '-m', 'initial'], { cwd: work });
    execFileSync('git', ['clone', '--quiet', '--bare', work, join(gitDir, `${name}.git`)]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Commits `files` on top of main of the bare repository `<gitDir>/<name>.git`, as a developer's push would. */
export function pushChange(gitDir: string, name: string, files: Readonly<Record<string, string>>): void {
  const work = mkdtempSync(join(tmpdir(), 'airlock-e2e-push-'));
  try {
    execFileSync('git', ['clone', '--quiet', join(gitDir, `${name}.git`), work]);
    writeFiles(work, files);
    execFileSync('git', [...GIT_IDENTITY, 'commit', '--quiet', '--all', '-m', 'change'], { cwd: work });
    execFileSync('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The branches of `<gitDir>/<name>.git` whose names start with `prefix`. */
export function branchesOf(gitDir: string, name: string, prefix: string): string[] {
  const refs = execFileSync('git', ['--git-dir', join(gitDir, `${name}.git`), 'for-each-ref', '--format=%(refname:short)', `refs/heads/${prefix}`], { encoding: 'utf8' });
  return refs.split('\n').filter(Boolean);
}

function writeFiles(root: string, files: Readonly<Record<string, string>>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** One tool call of a scripted model turn. */
export const call = (name: string, args: Record<string, unknown> = {}) => ({ name, arguments: args });
export const finish = { tool_calls: [call('finish', { summary: 'done' })] };

/** Writes one scripted conversation for the inference simulator, matched by the ticket's title. */
export function writeScenario(dir: string, file: string, title: string, turns: readonly object[]): void {
  writeFileSync(join(dir, file), stringify({ name: file.replace(/\.yaml$/, ''), match: { contains: [title] }, turns }, { lineWidth: 0 }));
}

/** A node:test file for src/calc.js's add, with `extra` lines before it requires the module. */
export const calculatorTest = (extra = '') =>
  ["'use strict';", "const test = require('node:test');", "const assert = require('node:assert/strict');", extra, "const { add } = require('../src/calc');", "test('adds', () => assert.equal(add(2, 3), 5));", ''].join('\n');
