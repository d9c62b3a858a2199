import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The ticket the demo files against the demo repository's real bug. */
export const DEMO_TICKET = {
  title: 'Invoice total adds the discount instead of subtracting it',
  description:
    'Customers with a discount are overcharged: invoiceTotal() in the billing module returns ' +
    'the subtotal plus the discount. It must subtract it. The failing test in test/invoice.test.js shows it.',
} as const;

/** A ticket whose model answer (see demo scenarios) does not fix the bug, so tests stay red. */
export const DEMO_BROKEN_FIX_TICKET = {
  title: 'Invoice total: drop the discount entirely',
  description: 'Try removing the discount from invoiceTotal() to see whether the tests pass.',
} as const;

/** A ticket whose model answer arrives slowly: a window for crash and restart tests. */
export const DEMO_SLOW_TICKET = {
  title: 'Invoice total discount bug (slow model)',
  description: 'Same bug as the invoice discount ticket; the model takes a while to answer.',
} as const;

/**
 * A ticket whose model answer fixes the bug but adds a test that starts a process which
 * never ends, so the tests hang: the window for cancel tests, which must see that process
 * tree end.
 */
export const DEMO_HANGING_TESTS_TICKET = {
  title: 'Invoice total discount bug (tests wait on a ledger service)',
  description: 'Same bug as the invoice discount ticket; the new test waits for a ledger service that never answers.',
} as const;

export const DEMO_BRANCH_BASE = 'main';

export interface DemoRepositoryOptions {
  /** A unique string planted in file contents and a file name, to prove nothing leaks. */
  readonly canary: string;
}

/** The demo repository's files: a small billing module with one real bug and its tests. */
export function demoRepositoryFiles({ canary }: DemoRepositoryOptions): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({ name: 'demo-billing', version: '1.0.0', private: true, scripts: { test: 'node --test' } }, null, 2)}\n`,
    '.airlock.yml': [
      'version: 1',
      'test:',
      // The spec reporter for the local log, JUnit XML for the worker to count tests by.
      '  command: ["node", "--test", "--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=junit", "--test-reporter-destination=junit.xml"]',
      '  junit: [junit.xml]',
      '  timeout: 60s',
      '',
    ].join('\n'),
    'README.md': '# demo-billing\n\nA tiny billing module used by the Airlock demo.\n',
    'src/invoice.js': [
      "'use strict';",
      `// Internal build marker ${canary}: must never leave the customer's network.`,
      '',
      '/** Sums line items (price in cents × quantity) and applies a percentage discount. */',
      'function invoiceTotal(lines, discountPercent = 0) {',
      '  const subtotal = lines.reduce((sum, line) => sum + line.priceCents * line.quantity, 0);',
      '  const discount = Math.round((subtotal * discountPercent) / 100);',
      '  return subtotal + discount;',
      '}',
      '',
      'module.exports = { invoiceTotal };',
      '',
    ].join('\n'),
    'src/currency.js': [
      "'use strict';",
      '',
      '/** Formats cents as a euro amount, e.g. 1234 → "€12.34". */',
      'function formatCents(cents) {',
      '  return `€${(cents / 100).toFixed(2)}`;',
      '}',
      '',
      'module.exports = { formatCents };',
      '',
    ].join('\n'),
    [`src/${canary}-notes.txt`]: `Internal notes ${canary}\n`,
    'test/invoice.test.js': [
      "'use strict';",
      "const test = require('node:test');",
      "const assert = require('node:assert/strict');",
      "const { invoiceTotal } = require('../src/invoice');",
      '',
      "test('totals line items without a discount', () => {",
      '  assert.equal(invoiceTotal([{ priceCents: 250, quantity: 4 }]), 1000);',
      '});',
      '',
      "test('subtracts a percentage discount', () => {",
      '  assert.equal(invoiceTotal([{ priceCents: 1000, quantity: 2 }], 10), 1800);',
      '});',
      '',
    ].join('\n'),
    'test/currency.test.js': [
      "'use strict';",
      "const test = require('node:test');",
      "const assert = require('node:assert/strict');",
      "const { formatCents } = require('../src/currency');",
      '',
      "test('formats cents as euros', () => {",
      "  assert.equal(formatCents(1234), '€12.34');",
      '});',
      '',
    ].join('\n'),
  };
}

/** One edit a scripted model makes: replace `search` with `replace` in `path` (an empty search creates the file). */
export interface DemoEdit {
  readonly path: string;
  readonly search: string;
  readonly replace: string;
}

/** What a competent model changes for DEMO_TICKET. */
export function demoFixEdits({ canary }: DemoRepositoryOptions): DemoEdit[] {
  return [
    {
      path: 'src/invoice.js',
      search: '  return subtotal + discount;',
      replace: [`  // Fixed by the model (${canary}): a discount lowers the total.`, '  return subtotal - discount;'].join('\n'),
    },
  ];
}

/** A comment of the demo's scripted reviewer, in the shape the worker asks a model for. */
export interface DemoReviewComment {
  readonly path: string;
  readonly line: number;
  readonly severity: 'critical' | 'major' | 'minor' | 'info';
  readonly body: string;
}

/**
 * What the demo's scripted reviewer says of the demo fix (demoFixEdits) in a review job: a
 * major comment on the `return` line the fix rewrites (line 9 of src/invoice.js once fixed), a
 * minor one on the comment line it adds (8), and one on the function's signature (5), which the
 * fix leaves alone: the worker drops that one and only counts it.
 */
export const DEMO_REVIEW_COMMENTS: readonly DemoReviewComment[] = [
  { path: 'src/invoice.js', line: 9, severity: 'major', body: 'A discount above 100 % makes the total negative: clamp `discountPercent` to 0..100 before subtracting.' },
  { path: 'src/invoice.js', line: 8, severity: 'minor', body: 'Say why the discount is subtracted rather than who changed the line.' },
  { path: 'src/invoice.js', line: 5, severity: 'info', body: 'Consider documenting the unit of `discountPercent`.' },
];

/** The argument that marks the never-ending process the hanging-tests answer starts, so a test can look for it. */
export function demoHangMarker({ canary }: DemoRepositoryOptions): string {
  return `${canary}-ledger-service`;
}

/** DEMO_TICKET's fix plus a new test that spawns a process that never exits and ignores SIGTERM (see DEMO_HANGING_TESTS_TICKET). */
export function demoHangingTestsEdits(options: DemoRepositoryOptions): DemoEdit[] {
  const ledgerTest = [
    "'use strict';",
    "const test = require('node:test');",
    "const { spawn } = require('node:child_process');",
    '',
    "test('waits for the ledger service', async () => {",
    // It ignores SIGTERM, as a wedged service would: only the ladder's SIGKILL ends it.
    `  const service = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", '${demoHangMarker(options)}'], { stdio: 'ignore' });`,
    "  await new Promise((resolve) => service.on('exit', resolve));",
    '});',
  ].join('\n');
  return [...demoFixEdits(options), { path: 'test/ledger.test.js', search: '', replace: ledgerTest }];
}

/** A change that applies cleanly but leaves the discount test failing. */
export function demoBrokenEdits({ canary }: DemoRepositoryOptions): DemoEdit[] {
  return [{ path: 'src/invoice.js', search: '  return subtotal + discount;', replace: `  return subtotal; // discount removed (${canary})` }];
}

const GIT_IDENTITY = ['-c', 'user.name=Demo Customer', '-c', 'user.email=dev@customer.example', '-c', 'commit.gpgsign=false'];

/**
 * Creates `<rootDir>/<name>.git`, a bare repository whose `main` holds the demo files in
 * one commit, ready to be served by the git server.
 */
export function createDemoRepository(rootDir: string, name: string, options: DemoRepositoryOptions): string {
  const bare = join(rootDir, `${name}.git`);
  const work = mkdtempSync(join(tmpdir(), 'airlock-demo-src-'));
  try {
    for (const [path, content] of Object.entries(demoRepositoryFiles(options))) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    const git = (cwd: string, ...args: string[]): void => {
      execFileSync('git', [...GIT_IDENTITY, ...args], { cwd, stdio: 'ignore' });
    };
    git(work, 'init', '--quiet', '--initial-branch', DEMO_BRANCH_BASE);
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'Billing module with invoice totals');
    mkdirSync(rootDir, { recursive: true });
    execFileSync('git', ['clone', '--quiet', '--bare', work, bare], { stdio: 'ignore' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bare;
}
