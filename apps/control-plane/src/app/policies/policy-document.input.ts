import { parsePolicyDocument } from '@airlock/policy';
import { InvalidRequestError } from '../common/invalid-request.error';
import { MAX_POLICY_DOCUMENT_BYTES } from './dto/create-policy.dto';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The path of the first string in the document PostgreSQL's jsonb cannot store (a NUL
 * character or an unpaired surrogate), with what was expected. The schema leaves free
 * text (a description) free, so this is checked apart.
 */
function unstorableText(document: unknown): string | null {
  const pending: { value: unknown; path: string }[] = [{ value: document, path: 'document' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return `${path}: expected no NUL (\\u0000) characters`;
      if (LONE_SURROGATE.test(value)) return `${path}: expected well-formed Unicode (no unpaired surrogate such as \\ud800)`;
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: `${path}[${index}]` }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, member] of Object.entries(value)) pending.push({ value: member, path: `${path}.${key}` });
    }
  }
  return null;
}

/**
 * Checks a policy document from a request: its size, then libs/policy's schema (every wrong
 * field named by its path under `document`, e.g. `document.rules.max-files-changed.max:
 * expected at least 1`), then that it can be stored. Returns the document as written —
 * what is stored and what bundles carry — not the parsed form with defaults filled in.
 */
export function validatedPolicyDocument(document: Record<string, unknown>): Record<string, unknown> {
  const bytes = Buffer.byteLength(JSON.stringify(document), 'utf8');
  if (bytes > MAX_POLICY_DOCUMENT_BYTES) throw new InvalidRequestError([`document: expected at most ${MAX_POLICY_DOCUMENT_BYTES} bytes of JSON (it has ${bytes})`]);
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) {
    throw new InvalidRequestError(parsed.errors.map((error) => `${error.path === '(document)' ? 'document' : `document.${error.path}`}: expected ${error.expected}`));
  }
  const unstorable = unstorableText(document);
  if (unstorable) throw new InvalidRequestError([unstorable]);
  return document;
}
