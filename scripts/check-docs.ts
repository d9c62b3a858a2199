/**
 * `npm run lint:docs`: the repository stands alone. Every relative link in a tracked
 * Markdown file must resolve to a file or folder in the repository, and no tracked file may
 * send a reader to a design document that is not in it. Exits 1 naming each problem.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
/** Documents that live outside the repository; naming them sends readers nowhere. */
const OUTSIDE_DOCUMENTS = /\b(?:DESIGN|STYLE|TOOLCHAIN)\.md\b|\.\.\/shared\//;
const MARKDOWN_LINK = /\]\(([^)\s]+)\)/g;

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file.length > 0 && !file.endsWith('package-lock.json') && existsSync(join(ROOT, file)));
const problems: string[] = [];

for (const file of tracked) {
  if (file === 'scripts/check-docs.ts') continue;
  const text = readFileSync(join(ROOT, file), 'utf8');
  text.split('\n').forEach((line, index) => {
    if (OUTSIDE_DOCUMENTS.test(line)) problems.push(`${file}:${index + 1}: names a document outside the repository`);
  });
  if (!file.endsWith('.md')) continue;
  for (const match of text.matchAll(MARKDOWN_LINK)) {
    const target = match[1]!;
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    const path = target.split('#')[0]!;
    if (!existsSync(resolve(ROOT, dirname(file), path))) problems.push(`${file}: link to ${target} does not resolve in the repository`);
  }
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`docs: ${tracked.length} tracked files checked, every relative link resolves, nothing points outside the repository\n`);
