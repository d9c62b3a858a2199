/**
 * Formats a validation path the way OpenAI names parameters in its errors
 * (`messages[0].content`), so a failing field reads the same in a scenario file error and in
 * an HTTP 400.
 */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((formatted, key) => {
    if (typeof key === 'number') return `${formatted}[${key}]`;
    const name = String(key);
    return formatted === '' ? name : `${formatted}.${name}`;
  }, '');
}
