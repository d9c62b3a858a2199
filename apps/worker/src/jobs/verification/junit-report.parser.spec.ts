import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JUNIT_LIMITS, JunitReportInvalidError, parseJunitReport } from './junit-report.parser';

const statuses = (xml: string) => {
  const report = parseJunitReport(xml);
  return { passed: report.idsWith('passed').sort(), failed: report.idsWith('failed').sort(), skipped: report.idsWith('skipped').sort() };
};

describe('parseJunitReport', () => {
  it("reads what node's own test runner writes, top-level cases and describe() suites alike", () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-junit-'));
    try {
      writeFileSync(
        join(dir, 'math.test.js'),
        [
          "const { test, describe } = require('node:test');",
          "const assert = require('node:assert');",
          "describe('math', () => {",
          "  test('adds', () => assert.equal(1 + 1, 2));",
          '  test(\'fails <b> & "quotes"\', () => assert.equal(1, 2));',
          "  test('skipped', { skip: true }, () => {});",
          '});',
          "test('top level', () => {});",
        ].join('\n'),
      );
      const junit = spawnSync(process.execPath, ['--test', '--test-reporter=junit', 'math.test.js'], { cwd: dir, encoding: 'utf8' });
      const report = parseJunitReport(junit.stdout);
      expect({ ran: report.ran, failing: report.failing, skipped: report.idsWith('skipped').length }).toEqual({ ran: 3, failing: 1, skipped: 1 });
      // node escapes quotes twice in names (&amp;quot;): the id is odd but the same on every run, which is all matching needs.
      expect(report.idsWith('failed')[0]).toContain('fails <b> &');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads pytest --junitxml output', () => {
    const xml =
      '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4">' +
      '<testcase classname="test_x" name="test_ok" time="0.000" />' +
      '<testcase classname="test_x" name="test_bad" time="0.000"><failure message="assert 1 == 2">E   assert 1 == 2</failure></testcase>' +
      '<testcase classname="test_x" name="test_fixture" time="0.000"><error message="fixture missing">E fixture</error></testcase>' +
      '<testcase classname="test_x" name="test_skip" time="0.000"><skipped type="pytest.skip" message="unconditional skip"/></testcase>' +
      '</testsuite></testsuites>';
    expect(statuses(xml)).toEqual({
      passed: ['::test_x::test_ok'],
      failed: ['::test_x::test_bad', '::test_x::test_fixture'],
      skipped: ['::test_x::test_skip'],
    });
  });

  it('reads a single <testsuite> root with file attributes (vitest, jest-junit) and nested suites (Surefire)', () => {
    const xml =
      '<testsuite name="vitest tests" tests="2"><testsuite name="src/a.test.ts">' +
      '<testcase classname="src/a.test.ts" file="src/a.test.ts" name="a &gt; works"/>' +
      '<testcase classname="src/a.test.ts" file="src/a.test.ts" name="a &gt; breaks"><failure><![CDATA[expected <1> to be 2]]></failure></testcase>' +
      '</testsuite></testsuite>';
    expect(statuses(xml)).toEqual({ passed: ['src/a.test.ts::src/a.test.ts::a > works'], failed: ['src/a.test.ts::src/a.test.ts::a > breaks'], skipped: [] });
  });

  it('keeps same-named cases of different classes apart', () => {
    const xml = '<testsuites><testsuite name="s"><testcase classname="A" name="t"/><testcase classname="B" name="t"><failure/></testcase></testsuite></testsuites>';
    expect(statuses(xml)).toEqual({ passed: ['::A::t'], failed: ['::B::t'], skipped: [] });
  });

  it('reads an empty suite as no tests', () => {
    expect(parseJunitReport('<testsuites><testsuite name="empty"/></testsuites>').ran).toBe(0);
  });

  it.each([
    ['a DOCTYPE (entity expansion)', '<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites><testsuite name="&a;"/></testsuites>', /DOCTYPE/],
    ['malformed XML', '<testsuites><testsuite name="s"><testcase name="a"></testsuite>', /not well-formed/],
    ['another document', '<html><body>not a report</body></html>', /root element/],
    ['a report past the size bound', `<testsuites>${' '.repeat(JUNIT_LIMITS.maxBytes)}</testsuites>`, /larger than/],
  ])('refuses %s', (_what, xml, message) => {
    expect(() => parseJunitReport(xml)).toThrow(JunitReportInvalidError);
    expect(() => parseJunitReport(xml)).toThrow(message);
  });
});
