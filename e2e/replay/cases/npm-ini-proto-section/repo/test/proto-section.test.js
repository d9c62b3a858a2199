'use strict';
const assert = require('node:assert/strict');
const { afterEach, test } = require('node:test');
const ini = require('../ini.js');

afterEach(() => {
  delete Object.prototype.polluted;
});

test('a [__proto__] section does not reach Object.prototype', () => {
  const parsed = ini.parse('[__proto__]\npolluted = "yes"\n[app]\nname = demo\n');
  assert.equal({}.polluted, undefined);
  assert.deepEqual(parsed.app, { name: 'demo' });
});

test('a __proto__[] array key and a dotted __proto__ section are ignored too', () => {
  ini.parse('__proto__[] = yes\n');
  assert.equal({}.polluted, undefined);
  ini.parse('[a.__proto__]\npolluted = yes\n');
  assert.equal({}.polluted, undefined);
});

test('ordinary sections and arrays still parse', () => {
  assert.deepEqual(ini.parse('top = 1\n[db]\nhost = h\nports[] = 1\nports[] = 2\n'), { top: '1', db: { host: 'h', ports: ['1', '2'] } });
});
