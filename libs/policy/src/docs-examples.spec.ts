import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicyDocument } from './policy-document';

// docs/policy.md shows admins documents to copy: each must pass the schema it documents.
const guide = readFileSync(join(__dirname, '../../../docs/policy.md'), 'utf8');
const documents = [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);

describe('the policy documents in docs/policy.md', () => {
  it('shows some', () => {
    expect(documents.length).toBeGreaterThanOrEqual(3);
  });

  it.each(documents.map((text, index) => [index + 1, text]))('document %i passes the schema', (_index, text) => {
    const parsed = parsePolicyDocument(JSON.parse(text));
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  });
});
