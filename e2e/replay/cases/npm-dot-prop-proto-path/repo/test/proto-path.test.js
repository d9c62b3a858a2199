'use strict';
const assert = require('node:assert/strict');
const { afterEach, test } = require('node:test');
const dotProp = require('..');

afterEach(() => {
  delete Object.prototype.polluted;
});

test('set() through __proto__ does not change Object.prototype', () => {
  dotProp.set({}, '__proto__.polluted', 'yes');
  assert.equal({}.polluted, undefined);
});

test('set() through constructor.prototype does not change Object.prototype', () => {
  dotProp.set({}, 'constructor.prototype.polluted', 'yes');
  assert.equal({}.polluted, undefined);
});

test('get() does not read through prototype paths', () => {
  assert.equal(dotProp.get({}, 'constructor.prototype.toString'), undefined);
});

test('ordinary paths still work', () => {
  const target = {};
  dotProp.set(target, 'a.b.c', 1);
  assert.deepEqual(target, { a: { b: { c: 1 } } });
  assert.equal(dotProp.get(target, 'a.b.c'), 1);
  assert.equal(dotProp.has(target, 'a.b'), true);
});
