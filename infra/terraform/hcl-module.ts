import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * A Terraform module (or root configuration) as HashiCorp's HCL parser, compiled to
 * WebAssembly in @cdktf/hcl2json, reads it: every `.tf` file of one directory in
 * Terraform's JSON form. A file with a syntax error makes loading reject.
 */

/** One block body in Terraform's JSON form: attributes, nested blocks (arrays of bodies), and `${…}` expressions as strings. */
export type Body = Record<string, unknown>;

export interface ValidationBlock {
  readonly condition: string;
  readonly errorMessage: string;
}

export interface VariableBlock {
  readonly name: string;
  readonly file: string;
  /** The type expression as written, without the `${…}` wrapper; undefined when absent. */
  readonly type: string | undefined;
  readonly description: string | undefined;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly validations: readonly ValidationBlock[];
  readonly body: Body;
}

export interface OutputBlock {
  readonly name: string;
  readonly file: string;
  readonly description: string | undefined;
  readonly body: Body;
}

export interface NamedBody {
  /** `type.name` for resources and data sources, `name` for module calls. */
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly file: string;
  readonly body: Body;
}

export interface TerraformModule {
  readonly directory: string;
  /** File name => Terraform's JSON form of it. */
  readonly files: ReadonlyMap<string, Body>;
  readonly variables: ReadonlyMap<string, VariableBlock>;
  readonly outputs: ReadonlyMap<string, OutputBlock>;
  /** `type.name` => body. */
  readonly resources: ReadonlyMap<string, NamedBody>;
  /** `type.name` (without the `data.` prefix) => body. */
  readonly dataSources: ReadonlyMap<string, NamedBody>;
  readonly locals: ReadonlyMap<string, unknown>;
  readonly moduleCalls: ReadonlyMap<string, NamedBody>;
  readonly terraformBlocks: readonly Body[];
}

/** Parses one file's text; rejects with the parser's message on a syntax error. */
export async function parseTerraform(fileName: string, text: string): Promise<Body> {
  return (await parse(fileName, text)) as Body;
}

export async function loadModule(directory: string): Promise<TerraformModule> {
  const fileNames = readdirSync(directory)
    .filter((name) => name.endsWith('.tf'))
    .sort();
  const files = new Map<string, Body>();
  const variables = new Map<string, VariableBlock>();
  const outputs = new Map<string, OutputBlock>();
  const resources = new Map<string, NamedBody>();
  const dataSources = new Map<string, NamedBody>();
  const locals = new Map<string, unknown>();
  const moduleCalls = new Map<string, NamedBody>();
  const terraformBlocks: Body[] = [];

  for (const file of fileNames) {
    const json = await parseTerraform(file, readFileSync(path.join(directory, file), 'utf8'));
    files.set(file, json);
    for (const [name, body] of namedBodies(json['variable'])) variables.set(name, toVariable(name, file, body));
    for (const [name, body] of namedBodies(json['output'])) {
      outputs.set(name, { name, file, description: stringOrUndefined(body['description']), body });
    }
    for (const [type, name, body] of typedBodies(json['resource'])) resources.set(`${type}.${name}`, { address: `${type}.${name}`, type, name, file, body });
    for (const [type, name, body] of typedBodies(json['data'])) dataSources.set(`${type}.${name}`, { address: `${type}.${name}`, type, name, file, body });
    for (const [name, body] of namedBodies(json['module'])) moduleCalls.set(name, { address: name, type: 'module', name, file, body });
    for (const block of asBodies(json['locals'])) for (const [name, value] of Object.entries(block)) locals.set(name, value);
    terraformBlocks.push(...asBodies(json['terraform']));
  }
  return { directory, files, variables, outputs, resources, dataSources, locals, moduleCalls, terraformBlocks };
}

/** The expression inside a `${…}` wrapper, or the text itself when it is not one. */
export function unwrapExpression(text: string): string {
  return text.startsWith('${') && text.endsWith('}') ? text.slice(2, -1) : text;
}

/** Every string anywhere in a JSON value (attribute values, nested blocks, object keys excluded). */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The strings of a value that are (or contain) Terraform expressions: plain literals cannot reference anything. */
export function expressionsIn(value: unknown): string[] {
  return stringsIn(value).filter((text) => text.includes('${') || text.includes('%{'));
}

const VARIABLE_REFERENCE = /(?<![\w.])var\.([A-Za-z_][\w-]*)/g;
const LOCAL_REFERENCE = /(?<![\w.])local\.([A-Za-z_][\w-]*)/g;
const MODULE_OUTPUT_REFERENCE = /(?<![\w.])module\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)/g;
// A resource reference is aws_<type>.<name>; a data source's is data.aws_<type>.<name>.
const RESOURCE_REFERENCE = /(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g;

export function variableReferences(text: string): string[] {
  return [...text.matchAll(VARIABLE_REFERENCE)].map((match) => match[1] ?? '');
}

export function localReferences(text: string): string[] {
  return [...text.matchAll(LOCAL_REFERENCE)].map((match) => match[1] ?? '');
}

export function moduleOutputReferences(text: string): { module: string; output: string }[] {
  return [...text.matchAll(MODULE_OUTPUT_REFERENCE)].map((match) => ({ module: match[1] ?? '', output: match[2] ?? '' }));
}

export function resourceReferences(text: string): { kind: 'resource' | 'data'; address: string }[] {
  return [...text.matchAll(RESOURCE_REFERENCE)].map((match) => ({ kind: match[1] ? 'data' : 'resource', address: `${match[2]}.${match[3]}` }));
}

/** Every block body a Terraform JSON value holds for `name`, e.g. every `statement` of a policy document, static and dynamic. */
export function nestedBlocks(body: Body, name: string): Body[] {
  const direct = asBodies(body[name]);
  const dynamic = asBodies(body['dynamic']).flatMap((dynamicBlocks) => asBodies(dynamicBlocks[name]).flatMap((block) => asBodies(block['content'])));
  return [...direct, ...dynamic];
}

export function asBodies(value: unknown): Body[] {
  if (Array.isArray(value)) return value.filter((item): item is Body => item !== null && typeof item === 'object' && !Array.isArray(item));
  if (value !== null && typeof value === 'object') return [value as Body];
  return [];
}

function namedBodies(value: unknown): [string, Body][] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([name, bodies]) => asBodies(bodies).map((body): [string, Body] => [name, body]));
}

function typedBodies(value: unknown): [string, string, Body][] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([type, named]) => namedBodies(named).map(([name, body]): [string, string, Body] => [type, name, body]));
}

function toVariable(name: string, file: string, body: Body): VariableBlock {
  const type = stringOrUndefined(body['type']);
  return {
    name,
    file,
    type: type === undefined ? undefined : unwrapExpression(type),
    description: stringOrUndefined(body['description']),
    hasDefault: Object.prototype.hasOwnProperty.call(body, 'default'),
    defaultValue: body['default'],
    validations: asBodies(body['validation']).map((validation) => ({
      condition: typeof validation['condition'] === 'string' ? validation['condition'] : '',
      errorMessage: typeof validation['error_message'] === 'string' ? validation['error_message'] : '',
    })),
    body,
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
