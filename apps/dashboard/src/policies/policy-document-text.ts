import type { Schemas } from '../api/client';
import { formatJson, locatePath, type JsonNode } from './json-text';

/** A rule id as the API names it (libs/policy's RULE_IDS, through the generated schema). */
export type RuleId = Schemas['WorkerRolloutResponse']['narrowedRules'][number];

/** The 16 rules in the order docs/policy.md lists them; documents are shown in this order. */
export const RULE_IDS = [
  'job-kinds',
  'repositories',
  'base-refs',
  'protected-paths',
  'max-files-changed',
  'max-lines-changed',
  'secrets',
  'dependency-manifests',
  'denied-packages',
  'denied-licenses',
  'tests-must-pass',
  'min-tests-run',
  'inference-endpoints',
  'inference-token-budget',
  'inference-time-budget',
  'metadata-level',
] as const satisfies readonly RuleId[];

// Fails to compile when the API gains a rule this list lacks.
type Holds<Condition extends true> = Condition;
type _EveryRuleListed = Holds<[Exclude<RuleId, (typeof RULE_IDS)[number]>] extends [never] ? true : false>;

const TOP_LEVEL_ORDER = ['schemaVersion', 'description', 'rules'];

/** The example of docs/policy.md ("A policy document"): what a new policy starts from. */
const TEMPLATE_DOCUMENT = {
  schemaVersion: 1,
  description: 'Payments: no dependency changes, no CI edits, small changes only',
  rules: {
    repositories: { allowed: ['payments-*', 'ledger'] },
    'protected-paths': { paths: ['.airlock.yml', '.github/**', 'deploy/**'] },
    'max-files-changed': { max: 10 },
    secrets: { enabled: true },
    'dependency-manifests': { allowChanges: false },
    'metadata-level': { report: 'minimal' },
  },
};

export const POLICY_TEMPLATE = formatJson(TEMPLATE_DOCUMENT, 2);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function orderedBy(record: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  // Built with defineProperty: a member named __proto__ stays a member.
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort((a, b) => rank(a) - rank(b))) {
    Object.defineProperty(ordered, key, { value: record[key], enumerable: true, writable: true, configurable: true });
  }
  return ordered;
}

/**
 * A stored document in reading order: schemaVersion, description, rules, and the rules as
 * the documentation lists them. (The database keeps members in an order of its own.)
 */
export function orderPolicyDocument(document: unknown): unknown {
  if (!isRecord(document)) return document;
  const ordered = orderedBy(document, TOP_LEVEL_ORDER);
  const rules = ordered['rules'];
  if (isRecord(rules)) ordered['rules'] = orderedBy(rules, RULE_IDS);
  return ordered;
}

/** A stored document as the editor and the version page show it. */
export function policyDocumentText(document: unknown): string {
  return formatJson(orderPolicyDocument(document), 2);
}

/** One problem the server named: the field's path (`document.rules.secrets.enabled`, `name`) and what it expected there. */
export interface FieldProblem {
  /** Everything before the problem's text; for a policy document it starts with `document`. */
  readonly path: string;
  readonly text: string;
}

// The server joins the problems of one request with "; " and starts each with the path of its field.
const PROBLEM_SEPARATOR = /; (?=(?:document|name|comment|scope|key|mode)(?:[.[][^;]*)?: )/;

/** The problems of a 400 message, each with its field's path; a part without a path keeps the whole text with path "". */
export function splitFieldProblems(message: string): FieldProblem[] {
  return message.split(PROBLEM_SEPARATOR).map((part) => {
    const separator = part.indexOf(': ');
    return separator > 0 ? { path: part.slice(0, separator), text: part.slice(separator + 2) } : { path: '', text: part };
  });
}

/** A problem of the document, placed: the line it is shown at (null: the document as a whole). */
export interface DocumentProblem {
  /** The path in the document, without the leading `document.` (`rules.max-files-changed.max`); "" for the whole document. */
  readonly path: string;
  readonly line: number | null;
  readonly text: string;
}

// The server quotes unknown member names as they are, unescaped: `no field "a", "b" (unknown here)`.
const UNKNOWN_FIELD = /no field "(.*?)"(?:, "| \(unknown here\))/;

/**
 * Places the server's problems of a document (`document.<path>: <text>`, as it answers
 * them) at lines of the text that was sent. A member name with ": " in it makes the split
 * ambiguous, so the first split whose path the text has wins. An unknown member is shown at
 * its own line rather than its parent's; a missing one at the line of the object that
 * lacks it.
 */
export function placeDocumentProblems(root: JsonNode, message: string): { readonly placed: DocumentProblem[]; readonly other: FieldProblem[] } {
  const placed: DocumentProblem[] = [];
  const other: FieldProblem[] = [];
  for (const problem of splitFieldProblems(message)) {
    const whole = problem.path === '' ? problem.text : `${problem.path}: ${problem.text}`;
    if (problem.path !== 'document' && !problem.path.startsWith('document.') && !problem.path.startsWith('document[')) {
      other.push(problem);
      continue;
    }
    placed.push(placeOne(root, whole));
  }
  return { placed, other };
}

function placeOne(root: JsonNode, whole: string): DocumentProblem {
  const candidates: { path: string; text: string }[] = [];
  for (let index = whole.indexOf(': '); index !== -1; index = whole.indexOf(': ', index + 1)) {
    candidates.push({ path: whole.slice('document'.length, index).replace(/^\./, ''), text: whole.slice(index + 2) });
  }
  const chosen = candidates.find((candidate) => locatePath(root, candidate.path).complete) ?? candidates[0] ?? { path: '', text: whole };
  if (chosen.path === '') return { path: '', line: null, text: chosen.text };
  const found = locatePath(root, chosen.path);
  const unknown = UNKNOWN_FIELD.exec(chosen.text)?.[1];
  if (found.complete && unknown !== undefined && found.node.kind === 'object') {
    const member = found.node.members.get(unknown);
    if (member) return { path: chosen.path, line: member.line, text: chosen.text };
  }
  return { path: chosen.path, line: found.node.line, text: chosen.text };
}

/**
 * The generated client types a document as an object without members (the API describes
 * it as a free-form object); any JSON object is what it takes.
 */
export function asDocumentBody(document: Record<string, unknown>): Record<string, never> {
  return document as Record<string, never>;
}

export { isRecord as isJsonObject };
