/** One difference between two policy documents, at a dotted path such as `rules.max-files-changed.max`. */
export interface PolicyChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** The value in the `from` version (absent when added). */
  readonly before?: unknown;
  /** The value in the `to` version (absent when removed). */
  readonly after?: unknown;
}

// Keys written as `.key`; any other (an alias glob with a dot, say) is written as `["key"]`.
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

type JsonObject = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function childPath(parent: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** Structural equality of JSON values; object key order does not matter. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
  }
  return a === b;
}

/**
 * What changed from one document to another, field by field, in path order. Objects are
 * compared member by member; a list is one value (an entry moved or inserted changes the
 * list, not every entry after it), as is any leaf.
 */
export function diffPolicyDocuments(from: unknown, to: unknown): PolicyChange[] {
  const changes: PolicyChange[] = [];
  // Recursion is shallow: stored documents came in request bodies nested at most MAX_JSON_DEPTH levels.
  const walk = (before: unknown, after: unknown, path: string): void => {
    if (isObject(before) && isObject(after)) {
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
      for (const key of keys) {
        const next = childPath(path, key);
        if (!Object.hasOwn(after, key)) changes.push({ path: next, change: 'removed', before: before[key] });
        else if (!Object.hasOwn(before, key)) changes.push({ path: next, change: 'added', after: after[key] });
        else walk(before[key], after[key], next);
      }
      return;
    }
    if (!sameJson(before, after)) changes.push({ path: path === '' ? '(document)' : path, change: 'changed', before, after });
  };
  walk(from, to, '');
  return changes;
}
