import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TestReport } from './test-report';

/** Bounds on a report the repository's own test command wrote, so a hostile one cannot exhaust the worker. */
export const JUNIT_LIMITS = { maxBytes: 32 * 1024 * 1024, maxCases: 200_000 } as const;

/** A report the worker cannot read as JUnit XML; the run's exit code is then all it has. */
export class JunitReportInvalidError extends Error {
  override readonly name = 'JunitReportInvalidError';
}

type XmlNode = Record<string, unknown>;

const CONTAINERS = new Set(['testsuites', 'testsuite']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // Entities in attribute values (&lt; in a parameterised test's name) are decoded; a
  // DOCTYPE is refused before parsing, so no entity can be declared, let alone expand.
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => CONTAINERS.has(name) || name === 'testcase',
});

/**
 * Reads a JUnit XML report as node's test runner, pytest, vitest, jest-junit, Maven
 * Surefire and go-junit-report write it: `<testsuites>` or `<testsuite>` at the root,
 * suites nested in suites, `<testcase name classname file>` holding `<failure>` or
 * `<error>` (failed) or `<skipped>` (skipped), else passed. A case is identified by its
 * file, class name and name together.
 */
export function parseJunitReport(xml: string): TestReport {
  if (Buffer.byteLength(xml, 'utf8') > JUNIT_LIMITS.maxBytes) throw new JunitReportInvalidError(`report larger than ${JUNIT_LIMITS.maxBytes} bytes`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new JunitReportInvalidError('report declares a DOCTYPE or entities');
  // The parser itself is lenient (an unclosed tag parses); the validator is not.
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new JunitReportInvalidError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const document = parser.parse(xml) as XmlNode;
  const roots = [...asNodes(document['testsuites']), ...asNodes(document['testsuite'])];
  if (roots.length === 0) throw new JunitReportInvalidError('no <testsuites> or <testsuite> root element');
  const report = new TestReport();
  let cases = 0;
  const visit = (suite: XmlNode, depth: number): void => {
    if (depth > 64) throw new JunitReportInvalidError('suites nested deeper than 64');
    for (const testCase of asNodes(suite['testcase'])) {
      cases += 1;
      if (cases > JUNIT_LIMITS.maxCases) throw new JunitReportInvalidError(`more than ${JUNIT_LIMITS.maxCases} test cases`);
      report.add(caseId(testCase, suite), statusOf(testCase));
    }
    for (const nested of asNodes(suite['testsuite'])) visit(nested, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return report;
}

function caseId(testCase: XmlNode, suite: XmlNode): string {
  const text = (node: XmlNode, key: string) => (typeof node[key] === 'string' ? (node[key] as string) : '');
  // node's runner leaves classname out and nests suites by describe(): the suite name keeps ids apart.
  const className = text(testCase, '@classname') || text(suite, '@name');
  return [text(testCase, '@file'), className, text(testCase, '@name')].join('::');
}

function statusOf(testCase: XmlNode): 'passed' | 'failed' | 'skipped' {
  if (testCase['failure'] !== undefined || testCase['error'] !== undefined) return 'failed';
  if (testCase['skipped'] !== undefined) return 'skipped';
  return 'passed';
}

function asNodes(value: unknown): XmlNode[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  // A self-closing <testsuite/> parses as an empty string.
  return list.filter((entry): entry is XmlNode => typeof entry === 'object' && entry !== null);
}
