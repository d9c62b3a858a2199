'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');
const decode = require('..');

test('a malformed sequence that is decodable in part does not throw', () => {
  assert.equal(typeof decode('%ea%ba%5a%ba'), 'string');
  assert.equal(typeof decode('  kun%ea%ba%5a%ba'), 'string');
});

test('well-formed input decodes as decodeURIComponent does', () => {
  assert.equal(decode('%E2%82%AC%20price'), '€ price');
});

test('undecodable parts are kept as they are', () => {
  assert.equal(decode('%'), '%');
  assert.equal(decode('%E0%A4%A'), '%E0%A4%A');
  assert.equal(decode('%C2%B5%ZZ'), 'µ%ZZ');
});
