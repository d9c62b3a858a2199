'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { nanoid, customAlphabet } = require('../index.cjs');

const URL_SAFE_ID = /^[A-Za-z0-9_-]+$/;

test('a fractional size does not break the ids generated after it', () => {
  nanoid(1.5);
  const ids = Array.from({ length: 50 }, () => nanoid());
  for (const id of ids) {
    assert.match(id, URL_SAFE_ID);
    assert.equal(id.length, 21);
  }
  assert.equal(new Set(ids).size, ids.length, 'every id must be different');
  assert.ok(ids.some((id) => new Set(id).size > 1), 'ids must not repeat one character');
});

test('a fractional size is rounded down', () => {
  assert.equal(nanoid(4.7).length, 4);
});

test('custom alphabets still honour their size', () => {
  const id = customAlphabet('abc', 10)();
  assert.match(id, /^[abc]{10}$/);
});
