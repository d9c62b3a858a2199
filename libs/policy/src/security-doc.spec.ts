import { readFileSync } from 'node:fs';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, WORKER_GATEWAY_PROTO, protoIncludeRoot } from '@airlock/protocol';
import { REPORTED_METADATA_LEVELS, describeResultFields } from './result-fields';
import { GENERATED_BEGIN, GENERATED_END, RESULT_FIELD_FACTS, SECURITY_DOC_PATH, codeCounts, generatedResultRows, steerableCounts } from './security-doc.generator';

// docs/security.md answers a customer's security team field by field; these tests hold it to the
// proto and to applyMetadataLevel, so a field added upstream or a level changed fails here first.
const page = readFileSync(SECURITY_DOC_PATH, 'utf8');
const REGENERATE = 'run `node -r @swc-node/register libs/policy/src/security-doc.generator.ts` and review the diff';

/** The text of one `## ` section of the page, by the start of its heading. */
function section(heading: string): string {
  const start = page.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`docs/security.md has no section "## ${heading}…"`);
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

/** The field each table row of the section names in its first cell (`hello.workerId`). */
function rowFields(text: string): string[] {
  return [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

interface Field {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

/** Every leaf field reachable from WorkerFrame, as `member.path`, `[]` after a repeated field. */
function workerFrameLeaves(): string[] {
  const definition = protoLoader.loadSync(WORKER_GATEWAY_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoIncludeRoot()] });
  const fieldsOf = (message: string): Field[] => {
    const entry = definition[`airlock.v1.${message}`] as { type?: { field?: Field[] } } | undefined;
    if (!entry?.type?.field) throw new Error(`airlock.v1.${message} is not a message the loader knows`);
    return entry.type.field;
  };
  const leaves = (message: string, prefix: string): string[] =>
    fieldsOf(message).flatMap((field) => {
      const path = `${prefix}${field.name}${field.label === 'LABEL_REPEATED' ? '[]' : ''}`;
      return field.type === 'TYPE_MESSAGE' ? leaves(field.typeName, `${path}.`) : [path];
    });
  return fieldsOf('WorkerFrame').flatMap((member) => leaves(member.typeName, `${member.name}.`));
}

describe('docs/security.md, "What crosses, field by field"', () => {
  const table = section('What crosses, field by field');

  it('has the JobResult rows describeResultFields gives today', () => {
    const begin = table.indexOf(GENERATED_BEGIN);
    const end = table.indexOf(GENERATED_END);
    expect({ markers: begin >= 0 && end > begin }).toEqual({ markers: true });
    // A plain string comparison would print both blocks whole; compare line by line to name the row.
    const inPage = table.slice(begin, end + GENERATED_END.length).split('\n');
    const generated = generatedResultRows().split('\n');
    expect({ lines: inPage, fix: REGENERATE }).toEqual({ lines: generated, fix: REGENERATE });
  });

  it('has one row for every field of every message a worker sends (WorkerFrame and all it contains), and no other', () => {
    const rows = rowFields(table);
    const leaves = workerFrameLeaves();
    expect(leaves.length).toBeGreaterThan(80);
    expect({ withoutRow: leaves.filter((leaf) => !rows.includes(leaf)) }).toEqual({ withoutRow: [] });
    expect({ rowsForNoField: rows.filter((row) => !leaves.includes(row)) }).toEqual({ rowsForNoField: [] });
    expect({ twice: rows.filter((row, index) => rows.indexOf(row) !== index) }).toEqual({ twice: [] });
  });

  it('gives every row a type, what a model can do with it, and one cell per level', () => {
    const malformed = table.split('\n').filter((line) => /^\| `/.test(line) && line.split(' | ').length !== 6);
    expect(malformed).toEqual([]);
  });
});

describe('RESULT_FIELD_FACTS', () => {
  it.each(REPORTED_METADATA_LEVELS)('%s: names exactly the fields describeResultFields lists', (level) => {
    expect(Object.keys(RESULT_FIELD_FACTS).sort()).toEqual(describeResultFields(level).map((entry) => entry.field).sort());
  });
});

describe('docs/security.md, "The residual channel"', () => {
  const residual = section('The residual channel');

  it("quotes the number of counts a model can set in a fix job's result and a review's, and of the failure codes and phases", () => {
    const { fix, review } = steerableCounts();
    const { failureCodes, phases } = codeCounts();
    const phrases = [`${fix.length} counts`, `${review.length} in a review`, `${failureCodes} failure codes`, `${phases} phases`];
    expect(phrases.filter((phrase) => !residual.includes(phrase))).toEqual([]);
  });
});
