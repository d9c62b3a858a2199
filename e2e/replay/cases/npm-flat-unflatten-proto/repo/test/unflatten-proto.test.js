'use strict';
const assert = require('node:assert/strict');
const { afterEach, test } = require('node:test');
const { flatten, unflatten } = require('..');

afterEach(() => {
  delete Object.prototype.polluted;
});

test('unflatten() of a "__proto__." key does not change Object.prototype', () => {
  unflatten({ '__proto__.polluted': true });
  assert.equal({}.polluted, undefined);
});

test('unflatten() with a custom delimiter is protected too', () => {
  unflatten({ '__proto__/polluted': true }, { delimiter: '/' });
  assert.equal({}.polluted, undefined);
});

test('flatten and unflatten still round-trip', () => {
  const nested = { a: { b: { c: 1 } }, d: [1, 2], e: Buffer.from('x') };
  assert.deepEqual(unflatten(flatten(nested)), { a: { b: { c: 1 } }, d: [1, 2], e: Buffer.from('x') });
});
