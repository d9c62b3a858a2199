import { describe, expect, it } from 'vitest';
import JSON5 from '../lib/index.js';

describe('parse with a "__proto__" member', () => {
  it('keeps "__proto__" as an own data property, as JSON.parse does', () => {
    const parsed = JSON5.parse('{"__proto__": {"isAdmin": true}, name: "x"}');
    expect(Object.keys(parsed)).toEqual(['__proto__', 'name']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed.isAdmin).toBeUndefined();
  });

  it('does the same inside nested objects and with a reviver', () => {
    const parsed = JSON5.parse("{a: {'__proto__': {polluted: 1}}}", (_key, value) => value);
    expect(Object.getPrototypeOf(parsed.a)).toBe(Object.prototype);
    expect(parsed.a.polluted).toBeUndefined();
    expect(Object.keys(parsed.a)).toEqual(['__proto__']);
  });

  it('still parses ordinary JSON5', () => {
    expect(JSON5.parse("{unquoted: 'single', trailing: [1, 2,], hex: 0x10,}")).toEqual({ unquoted: 'single', trailing: [1, 2], hex: 16 });
  });
});
