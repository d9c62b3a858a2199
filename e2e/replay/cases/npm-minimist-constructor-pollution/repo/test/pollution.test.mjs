import { afterEach, describe, expect, it } from 'vitest';
import parseArgs from '../index.js';

afterEach(() => {
  delete Function.prototype.injected;
  delete Object.prototype.injected;
});

describe('dotted option names that walk to a prototype', () => {
  it('cannot reach Function.prototype through constructor', () => {
    parseArgs(['--_.constructor.constructor.prototype.injected', 'yes']);
    expect(function probe() {}.injected).toBeUndefined();
  });

  it('cannot reach Object.prototype through constructor.prototype', () => {
    parseArgs(['--a.constructor.prototype.injected', 'yes']);
    expect({}.injected).toBeUndefined();
  });

  it('still builds nested objects from dotted names', () => {
    expect(parseArgs(['--server.port', '8080', '--server.host', 'h', 'rest'])).toEqual({ _: ['rest'], server: { port: 8080, host: 'h' } });
  });
});
