import { describe, expect, it } from 'vitest';
import cookie from '../index.js';

describe('serialize with a Domain attribute', () => {
  it('accepts a domain with a leading dot, as browsers do', () => {
    expect(cookie.serialize('session', 'abc', { domain: '.example.com' })).toBe('session=abc; Domain=.example.com');
  });

  it('still accepts a plain domain', () => {
    expect(cookie.serialize('session', 'abc', { domain: 'example.com' })).toBe('session=abc; Domain=example.com');
  });

  it('still refuses a domain that is not a host name', () => {
    expect(() => cookie.serialize('session', 'abc', { domain: 'example.com; Path=/evil' })).toThrow(TypeError);
    expect(() => cookie.serialize('session', 'abc', { domain: 'example.com.' })).toThrow(TypeError);
  });
});
