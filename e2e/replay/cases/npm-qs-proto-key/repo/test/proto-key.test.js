'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');
const qs = require('..');

test('a nested __proto__ key does not replace the prototype of the parsed object', () => {
  const parsed = qs.parse('user[__proto__][isAdmin]=true&user[name]=x', { allowPrototypes: true });
  assert.equal(Object.getPrototypeOf(parsed.user), Object.prototype);
  assert.equal(parsed.user.isAdmin, undefined);
  assert.equal(parsed.user.name, 'x');
});

test('ordinary nested keys still parse', () => {
  assert.deepEqual(qs.parse('a[b][c]=d&e[]=1&e[]=2'), { a: { b: { c: 'd' } }, e: ['1', '2'] });
});
