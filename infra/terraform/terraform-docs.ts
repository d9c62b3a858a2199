import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadModule, type TerraformModule } from './hcl-module';

/**
 * The generated part of each module's README, in the layout terraform-docs' markdown table
 * format produces (Requirements, Resources, Inputs, Outputs between BEGIN_TF_DOCS and
 * END_TF_DOCS), rendered from the module as the HCL parser reads it, and the reading of
 * those tables back for the infra test. Regenerate after changing a module:
 *
 *   node -r @swc-node/register infra/terraform/terraform-docs.ts
 */

export const DOCS_BEGIN = '<!-- BEGIN_TF_DOCS -->';
export const DOCS_END = '<!-- END_TF_DOCS -->';

export interface InputRow {
  readonly name: string;
  readonly description: string;
  readonly type: string;
  /** The Default cell without backticks: JSON of the default, or n/a. */
  readonly defaultCell: string;
  readonly required: boolean;
}

export interface OutputRow {
  readonly name: string;
  readonly description: string;
}

/** A type expression on one line: `object({ min = number, max = number })`, whatever its layout in the file. */
export function normaliseType(type: string): string {
  const lines = type
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line.length > 0);
  let joined = '';
  for (const line of lines) {
    if (joined === '') joined = line;
    else if (/[({[,]$/.test(joined) || /^[)}\]]/.test(line)) joined += ` ${line}`;
    else joined += `, ${line}`;
  }
  return joined.replace(/,\s*([)}\]])/g, ' $1').replace(/\s+/g, ' ');
}

export function defaultCell(hasDefault: boolean, value: unknown): string {
  return hasDefault ? JSON.stringify(value) : 'n/a';
}

export function renderDocs(module: TerraformModule): string {
  const requirements = requirementRows(module);
  const resources = [...module.resources.values()].map((resource) => ({ address: resource.address, kind: 'resource', type: resource.type }));
  const dataSources = [...module.dataSources.values()].map((data) => ({ address: `data.${data.address}`, kind: 'data source', type: data.type }));
  const lines = [
    DOCS_BEGIN,
    '## Requirements',
    '',
    '| Name | Version |',
    '|------|---------|',
    ...requirements.map(([name, version]) => `| <a name="requirement_${name}"></a> [${name}](#requirement\\_${name}) | ${escapeCell(version)} |`),
    '',
    '## Resources',
    '',
    '| Name | Type |',
    '|------|------|',
    ...[...resources, ...dataSources]
      .sort((a, b) => a.address.localeCompare(b.address))
      .map(({ address, kind, type }) => `| [${address}](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/${kind === 'resource' ? 'resources' : 'data-sources'}/${type.replace(/^aws_/, '')}) | ${kind} |`),
    '',
    '## Inputs',
    '',
    '| Name | Description | Type | Default | Required |',
    '|------|-------------|------|---------|:--------:|',
    ...[...module.variables.values()]
      .sort((a, b) => Number(a.hasDefault) - Number(b.hasDefault) || a.name.localeCompare(b.name))
      .map(
        (variable) =>
          `| <a name="input_${variable.name}"></a> [${variable.name}](#input\\_${escapeUnderscores(variable.name)}) | ${escapeCell(variable.description ?? '')} | \`${normaliseType(variable.type ?? 'any')}\` | \`${defaultCell(variable.hasDefault, variable.defaultValue)}\` | ${variable.hasDefault ? 'no' : 'yes'} |`,
      ),
    '',
    '## Outputs',
    '',
    '| Name | Description |',
    '|------|-------------|',
    ...[...module.outputs.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((output) => `| <a name="output_${output.name}"></a> [${output.name}](#output\\_${escapeUnderscores(output.name)}) | ${escapeCell(output.description ?? '')} |`),
    DOCS_END,
  ];
  return lines.join('\n');
}

/** The Inputs table of a README, row by row. */
export function readInputRows(markdown: string): InputRow[] {
  return tableRows(markdown, '## Inputs').map((cells) => {
    const [nameCell = '', description = '', type = '', defaultValue = '', required = ''] = cells;
    return { name: anchorName(nameCell, 'input'), description: unescapeCell(description), type: stripBackticks(type), defaultCell: stripBackticks(defaultValue), required: required.trim() === 'yes' };
  });
}

/** The Outputs table of a README, row by row. */
export function readOutputRows(markdown: string): OutputRow[] {
  return tableRows(markdown, '## Outputs').map((cells) => {
    const [nameCell = '', description = ''] = cells;
    return { name: anchorName(nameCell, 'output'), description: unescapeCell(description) };
  });
}

/** Replaces the generated section of a README, or fails when the README has none. */
export function withGeneratedDocs(readme: string, docs: string): string {
  const begin = readme.indexOf(DOCS_BEGIN);
  const end = readme.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error(`README has no ${DOCS_BEGIN} … ${DOCS_END} section`);
  return readme.slice(0, begin) + docs + readme.slice(end + DOCS_END.length);
}

function requirementRows(module: TerraformModule): [string, string][] {
  const rows: [string, string][] = [];
  for (const block of module.terraformBlocks) {
    if (typeof block['required_version'] === 'string') rows.push(['terraform', block['required_version']]);
    const providers = Array.isArray(block['required_providers']) ? block['required_providers'] : [];
    for (const entry of providers as Record<string, { version?: string }>[]) {
      for (const [name, requirement] of Object.entries(entry)) rows.push([name, requirement.version ?? '']);
    }
  }
  return rows;
}

function tableRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return [];
  const rest = markdown.slice(start + heading.length + 2);
  const next = rest.search(/\n## |\n<!-- END_TF_DOCS -->/);
  const section = next < 0 ? rest : rest.slice(0, next);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| <a name='))
    .map((line) => splitCells(line));
}

/** Cells of a table row; `\|` inside a cell is text, not a separator. */
function splitCells(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  for (let index = 1; index < line.length; index += 1) {
    const character = line[index];
    if (character === '\\' && line[index + 1] === '|') {
      current += '\\|';
      index += 1;
    } else if (character === '|') {
      cells.push(current.trim());
      current = '';
    } else {
      current += character;
    }
  }
  return cells;
}

function anchorName(cell: string, kind: 'input' | 'output'): string {
  return new RegExp(`<a name="${kind}_([^"]+)"></a>`).exec(cell)?.[1] ?? '';
}

/** Table-cell text: pipes escaped, angle brackets as entities (so <region> is text, not a tag), newlines as <br/>. */
function escapeCell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\n/g, '<br/>');
}

function unescapeCell(text: string): string {
  return text.replace(/<br\/>/g, '\n').replace(/\\\|/g, '|').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function escapeUnderscores(text: string): string {
  return text.replace(/_/g, '\\_');
}

function stripBackticks(cell: string): string {
  return cell.replace(/^`/, '').replace(/`$/, '');
}

async function writeReadmes(): Promise<void> {
  const modulesDirectory = path.join(__dirname, 'modules');
  for (const name of ['worker-aws', 'control-plane-aws']) {
    const directory = path.join(modulesDirectory, name);
    const readmePath = path.join(directory, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    writeFileSync(readmePath, withGeneratedDocs(readme, renderDocs(await loadModule(directory))));
    process.stdout.write(`${path.relative(process.cwd(), readmePath)}: generated tables updated\n`);
  }
}

if (require.main === module) {
  writeReadmes().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
