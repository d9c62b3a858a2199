import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContextEngine } from '../context-engine';
import { TestRepository, testGitRunner } from '../testing/git-repository.fixture';

describe("the repository's .gitattributes: linguist-generated and linguist-vendored", () => {
  let base: string;
  let repository: TestRepository;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'context-engine-attributes-'));
    repository = await TestRepository.create();
    repository.write({
      '.gitattributes': [
        'api/client.ts linguist-generated',
        'lib/chart/** linguist-vendored=true',
        // Explicitly not generated: read like any file.
        'src/schema.ts -linguist-generated',
        '',
      ].join('\n'),
      'api/client.ts': 'export function fetchInvoiceRefund(id: string): Promise<unknown> {\n  return fetch(`/refunds/${id}`);\n}\n',
      'lib/chart/axis.js': 'export function drawInvoiceRefundAxis() {}\n',
      'src/schema.ts': 'export interface InvoiceRefund {\n  readonly id: string;\n}\n',
      'src/refunds.ts': 'export function refundInvoice(id: string): void {}\n',
    });
    await repository.commit('attributes');
  });

  afterAll(() => {
    repository.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  it('lists a generated file without content, only counts a vendored one, and reads the rest', async () => {
    const index = await new ContextEngine({ cacheDir: join(base, 'cache'), git: testGitRunner }).open({ repositoryId: 'refunds', worktree: repository.root });
    const files = new Map(index.files().map((file) => [file.path, file.skipped]));
    expect([...files.keys()]).toEqual(['.gitattributes', 'api/client.ts', 'src/refunds.ts', 'src/schema.ts']);
    expect(files.get('api/client.ts')).toBe('generated');
    expect(files.get('src/schema.ts')).toBeNull();
    expect(index.report.counts.skipped).toMatchObject({ generated: 1, vendored: 1 });
    const result = await index.retrieve({ query: 'invoice refund fetchInvoiceRefund drawInvoiceRefundAxis', tokenBudget: 4_000 });
    expect(result.files.map((file) => file.path)).toEqual(expect.arrayContaining(['src/refunds.ts', 'src/schema.ts']));
    expect(result.files.map((file) => file.path)).not.toContain('api/client.ts');
    expect(result.files.map((file) => file.path)).not.toContain('lib/chart/axis.js');
  });
});
