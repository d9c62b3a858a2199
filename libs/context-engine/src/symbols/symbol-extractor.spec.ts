import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { languageOf } from './language-registry';
import { type ExtractedSymbols, SymbolExtractor } from './symbol-extractor';

// Fixtures end in `.txt` so that no tool of this repository (tsc, eslint, jest) treats them
// as its own source; the name before `.txt` says the language.
const FIXTURES = join(__dirname, '..', 'fixtures');
const LIMITS = { maxDefinitions: 100, maxReferences: 100 };
const extractor = new SymbolExtractor();

async function extractFixture(folder: 'ok' | 'not-ok', name: string): Promise<ExtractedSymbols> {
  const language = languageOf(name);
  if (!language) throw new Error(`no language for ${name}`);
  const outcome = await extractor.extract(readFileSync(join(FIXTURES, folder, `${name}.txt`), 'utf8'), language, LIMITS, () => false);
  if (typeof outcome === 'string') throw new Error(`extraction ${outcome}`);
  return outcome;
}

/** `kind container.name@line`, compact enough to compare whole lists. */
function summary(symbols: ExtractedSymbols): string[] {
  return symbols.definitions.map((d) => `${d.kind} ${d.container ? `${d.container}.` : ''}${d.name}@${d.line}`);
}

describe('SymbolExtractor, ok fixtures', () => {
  it('TypeScript: classes, methods, arrow-function fields, interfaces, types, enums, constants, functions, namespaces', async () => {
    const symbols = await extractFixture('ok', 'invoice.service.ts');
    expect(summary(symbols)).toEqual([
      'class InvoiceService@4',
      'method InvoiceService.totalWithTax@8',
      'method InvoiceService.applyDiscount@13',
      'interface InvoiceLine@16',
      'type InvoiceId@21',
      'enum InvoiceState@23',
      'constant MAX_LINES@28',
      'function parseInvoiceId@30',
      'module Legacy@34',
      'function oldTotal@35',
    ]);
    expect(symbols.parseErrors).toBe(false);
    expect(symbols.references).toEqual(expect.arrayContaining(['roundCents', 'Money', 'URL']));
    // A defined name is a definition, not also a reference to itself.
    expect(symbols.references).not.toContain('InvoiceService');
  });

  it('TypeScript: a definition covers its export keyword and the doc comment above it', async () => {
    const symbols = await extractFixture('ok', 'invoice.service.ts');
    const service = symbols.definitions.find((d) => d.name === 'InvoiceService');
    const method = symbols.definitions.find((d) => d.name === 'totalWithTax');
    expect(service).toMatchObject({ startLine: 3, line: 4, endLine: 14 });
    expect(method).toMatchObject({ startLine: 7, line: 8, endLine: 11 });
  });

  it('TSX: components as functions and arrow constants, prop interfaces', async () => {
    const symbols = await extractFixture('ok', 'widget-list.tsx');
    expect(summary(symbols)).toEqual(['interface WidgetListProps@3', 'function WidgetList@8', 'function EmptyWidgetList@21']);
    expect(symbols.references).toEqual(expect.arrayContaining(['useState', 'setSelected']));
  });

  it('JavaScript: classes, methods, getters, functions, arrow constants, module.exports members', async () => {
    const symbols = await extractFixture('ok', 'shopping-cart.js');
    expect(summary(symbols)).toEqual([
      'class ShoppingCart@4',
      'method ShoppingCart.addItem@7',
      'method ShoppingCart.size@12',
      'function checkout@17',
      'function emptyCart@21',
      'function restoreCart@23',
      'constant DEFAULT_CURRENCY@27',
    ]);
    expect(symbols.references).toEqual(expect.arrayContaining(['formatPrice', 'charge', 'ShoppingCart']));
  });

  it('JavaScript: a named function expression exported with module.exports = function name(…), as CommonJS packages write them', async () => {
    const outcome = await extractor.extract("'use strict'\nmodule.exports = function parse (text, reviver) {\n  return text\n}\n", 'javascript', LIMITS, () => false);
    if (typeof outcome === 'string') throw new Error(`extraction ${outcome}`);
    expect(summary(outcome)).toContain('function parse@2');
  });

  it('Python: classes, methods (with decorators), module functions, nested functions, module constants', async () => {
    const symbols = await extractFixture('ok', 'inventory.py');
    expect(summary(symbols)).toEqual([
      'variable LOW_STOCK_THRESHOLD@5',
      'class Inventory@8',
      'method Inventory.__init__@11',
      'method Inventory.skus@15',
      'method Inventory.reserve_stock@18',
      'function restock_all@25',
      'function bump@26',
    ]);
    expect(symbols.definitions.find((d) => d.name === 'skus')?.startLine).toBe(14);
    expect(symbols.references).toEqual(expect.arrayContaining(['publish_event', 'StockEvent', 'defaultdict']));
  });

  it('Go: structs, interfaces and their methods, receiver methods, functions, package constants and variables', async () => {
    const symbols = await extractFixture('ok', 'ledger.go');
    expect(summary(symbols)).toEqual([
      'variable ErrOverdrawn@6',
      'constant DefaultCurrency@8',
      'struct Account@11',
      'interface Store@16',
      'method Store.Save@17',
      'type AccountID@20',
      'method Account.Debit@23',
      'function NewAccount@31',
    ]);
    expect(symbols.definitions.find((d) => d.name === 'Debit')).toMatchObject({ startLine: 22, endLine: 29 });
  });

  it('Java: classes, constructors, fields, methods, records, enums and their constants, nested interfaces', async () => {
    const symbols = await extractFixture('ok', 'ShipmentTracker.java');
    expect(summary(symbols)).toEqual([
      'class ShipmentTracker@6',
      'field ShipmentTracker.shipments@7',
      'constructor ShipmentTracker.ShipmentTracker@9',
      'method ShipmentTracker.findShipment@14',
      'class ShipmentTracker.Shipment@18',
      'constant Status.DELIVERED@20',
      'constant Status.PENDING@20',
      'enum ShipmentTracker.Status@20',
      'interface ShipmentTracker.Listener@22',
      'method Listener.onDelivered@23',
    ]);
    expect(symbols.references).toEqual(expect.arrayContaining(['stream', 'filter', 'List']));
  });
});

describe('SymbolExtractor, not-ok fixtures (syntax errors)', () => {
  it.each([
    ['broken.ts', 'survivesAbove'],
    ['broken.js', 'survivesAbove'],
    ['broken.py', 'survives_above'],
    ['broken.go', 'SurvivesAbove'],
    ['Broken.java', 'survivesAbove'],
  ])('%s: flags the errors and still finds what parses around them', async (name, survivor) => {
    const symbols = await extractFixture('not-ok', name);
    expect(symbols.parseErrors).toBe(true);
    expect(symbols.definitions.map((d) => d.name)).toContain(survivor);
  });
});

describe('SymbolExtractor, bounds and failures', () => {
  it('keeps at most maxDefinitions and maxReferences', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `function f${i}() { return g${i}(); }`).join('\n');
    const outcome = await extractor.extract(text, 'javascript', { maxDefinitions: 7, maxReferences: 5 }, () => false);
    if (typeof outcome === 'string') throw new Error(outcome);
    expect(outcome.definitions).toHaveLength(7);
    expect(outcome.references).toHaveLength(5);
  });

  it('stops when asked to, instead of finishing the parse', async () => {
    const text = 'def f():\n    return 1\n'.repeat(20_000);
    expect(await extractor.extract(text, 'python', LIMITS, () => true)).toBe('stopped');
  });

  it('reports a grammar that cannot be loaded as unavailable, once per language, without throwing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-grammars-'));
    try {
      const without = new SymbolExtractor(empty);
      expect(await without.extract('package main', 'go', LIMITS, () => false)).toBe('unavailable');
      expect(await without.extract('package main', 'go', LIMITS, () => false)).toBe('unavailable');
      expect(without.unavailableLanguages).toEqual(['go']);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
