import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WORKSPACE_ROOT } from '@airlock/local-stack';
import { launchBrowser, type BrowserHarness } from './browser-harness';

/**
 * The diagrams in docs/ are code (Mermaid): each one is parsed and drawn by Mermaid itself, in
 * Debian's chromium, so a diagram that a reader's wiki would show as an error fails here.
 */

const DOCS = join(WORKSPACE_ROOT, 'docs');
const MERMAID_SCRIPT = require.resolve('mermaid/dist/mermaid.min.js');

interface Diagram {
  readonly where: string;
  readonly source: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

function diagramsIn(file: string): Diagram[] {
  const text = readFileSync(file, 'utf8');
  const diagrams: Diagram[] = [];
  for (const match of text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, match.index).split('\n').length;
    diagrams.push({ where: `${relative(WORKSPACE_ROOT, file)}:${line}`, source: match[1]! });
  }
  return diagrams;
}

/** Runs in the page: parses and draws one diagram; answers 'ok' or Mermaid's own message. */
const DRAW = `async ([id, source]) => {
  try {
    await mermaid.parse(source);
    const { svg } = await mermaid.render(id, source);
    return svg.includes('<svg') ? 'ok' : 'no svg drawn';
  } catch (error) {
    return String(error && error.message ? error.message : error);
  }
}`;

describe('diagrams in docs/', () => {
  let harness: BrowserHarness;
  const diagrams = markdownFiles(DOCS).flatMap(diagramsIn);

  const draw = (id: string, source: string): Promise<string> => harness.page.evaluate(`(${DRAW})(${JSON.stringify([id, source])})`);

  beforeAll(async () => {
    harness = await launchBrowser('about:blank');
    await harness.page.setContent('<!doctype html><html><body></body></html>');
    await harness.page.addScriptTag({ path: MERMAID_SCRIPT });
    await harness.page.evaluate(`mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' })`);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('has the review diagrams: data flow, network topology, encryption', () => {
    const review = diagrams.filter((diagram) => diagram.where.startsWith('docs/diagrams.md'));
    expect(review.map((diagram) => diagram.source.split('\n')[0]!.trim())).toEqual(['sequenceDiagram', 'flowchart LR', 'flowchart TB']);
  });

  it('refuses a broken diagram, so the check below can fail', async () => {
    expect(await draw('broken', 'flowchart LR\n  A -- no end')).not.toBe('ok');
  });

  it.each(diagrams.map((diagram, index) => [diagram.where, index] as const))('draws %s', async (_where, index) => {
    expect(await draw(`diagram${index}`, diagrams[index]!.source)).toBe('ok');
  });
});
