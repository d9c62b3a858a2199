import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type Body,
  type TerraformModule,
  asBodies,
  expressionsIn,
  localReferences,
  moduleOutputReferences,
  nestedBlocks,
  resourceReferences,
  stringsIn,
  unwrapExpression,
  variableReferences,
} from './hcl-module';
import { defaultCell, normaliseType, readInputRows, readOutputRows } from './terraform-docs';

/**
 * The checks the infra test runs on the Terraform modules, each returning the problems it
 * found (empty: the check passed), so the test can show every one of them failing on a
 * deliberately broken copy.
 */

const META_ARGUMENTS = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);

/** Every variable has a type and a description; every variable with a shape has a validation that names it and says what is expected. */
export function checkVariables(module: TerraformModule): string[] {
  const problems: string[] = [];
  for (const variable of module.variables.values()) {
    const where = `${path.basename(module.directory)}: variable "${variable.name}"`;
    if (!variable.type) problems.push(`${where} has no type`);
    if (!variable.description?.trim()) problems.push(`${where} has no description`);
    // Booleans and free-form tag maps have no shape to check; everything else has one.
    const shapeless = variable.type === 'bool' || variable.name === 'tags';
    if (shapeless) continue;
    if (variable.validations.length === 0) {
      problems.push(`${where} has a shape but no validation block`);
      continue;
    }
    for (const validation of variable.validations) {
      if (!validation.errorMessage.trim()) problems.push(`${where} has a validation without an error_message`);
      if (!variableReferences(validation.condition).includes(variable.name)) problems.push(`${where} has a validation whose condition does not test var.${variable.name}`);
      const others = variableReferences(validation.condition).filter((name) => name !== variable.name);
      if (others.length > 0) problems.push(`${where} has a validation referring to other variables (${others.join(', ')}), which Terraform 1.5 refuses`);
    }
    const conditions = variable.validations.map((validation) => validation.condition).join('\n');
    const shapeRules: [RegExp, string, string][] = [
      [/_cidrs?$/, 'cidrhost(', 'CIDRs checked with cidrhost()'],
      [/_ports?$/, '65535', 'ports checked against 1..65535'],
      [/_arns?$/, 'arn:', 'ARNs checked with a regex'],
      [/_sha256$/, '{64}', 'SHA-256 checked as 64 hexadecimal characters'],
      [/_url$/, 'regex(', 'URLs checked with a regex'],
    ];
    for (const [pattern, needle, expectation] of shapeRules) {
      if (pattern.test(variable.name) && !conditions.includes(needle)) problems.push(`${where}: expected ${expectation}`);
    }
  }
  return problems;
}

/** Every output has a description and a value. */
export function checkOutputs(module: TerraformModule): string[] {
  const problems: string[] = [];
  for (const output of module.outputs.values()) {
    const where = `${path.basename(module.directory)}: output "${output.name}"`;
    if (!output.description?.trim()) problems.push(`${where} has no description`);
    if (!('value' in output.body)) problems.push(`${where} has no value`);
  }
  return problems;
}

/** The README's Inputs and Outputs tables list exactly the module's variables and outputs, with the same types, defaults and descriptions. */
export function checkReadme(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const readmePath = path.join(module.directory, 'README.md');
  if (!existsSync(readmePath)) return [`${name}: README.md is missing`];
  const readme = readFileSync(readmePath, 'utf8');
  const problems: string[] = [];
  const inputs = new Map(readInputRows(readme).map((row) => [row.name, row]));
  const outputs = new Map(readOutputRows(readme).map((row) => [row.name, row]));
  for (const variable of module.variables.values()) {
    const row = inputs.get(variable.name);
    if (!row) {
      problems.push(`${name}: README's Inputs table lacks variable "${variable.name}"`);
      continue;
    }
    const expectedType = normaliseType(variable.type ?? 'any');
    if (row.type !== expectedType) problems.push(`${name}: README gives "${variable.name}" the type ${row.type}, the module ${expectedType}`);
    const expectedDefault = defaultCell(variable.hasDefault, variable.defaultValue);
    if (row.defaultCell !== expectedDefault) problems.push(`${name}: README gives "${variable.name}" the default ${row.defaultCell}, the module ${expectedDefault}`);
    if (row.required === variable.hasDefault) problems.push(`${name}: README marks "${variable.name}" ${row.required ? 'required' : 'optional'}, the module the opposite`);
    if (row.description !== variable.description) problems.push(`${name}: README's description of "${variable.name}" differs from the module's`);
  }
  for (const row of inputs.keys()) if (!module.variables.has(row)) problems.push(`${name}: README's Inputs table lists "${row}", which the module does not declare`);
  for (const output of module.outputs.values()) {
    const row = outputs.get(output.name);
    if (!row) problems.push(`${name}: README's Outputs table lacks output "${output.name}"`);
    else if (row.description !== output.description) problems.push(`${name}: README's description of output "${output.name}" differs from the module's`);
  }
  for (const row of outputs.keys()) if (!module.outputs.has(row)) problems.push(`${name}: README's Outputs table lists "${row}", which the module does not declare`);
  return problems;
}

/**
 * References resolve: every var.X is declared and every declared variable is used outside
 * its own validation; every local.X is declared; every aws_x.name and data.aws_x.name points
 * to a resource or data source of the module.
 */
export function checkReferences(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const problems: string[] = [];
  const used = new Set<string>();
  for (const [file, json] of module.files) {
    for (const [kind, value] of Object.entries(json)) {
      for (const expression of expressionsIn(value)) {
        for (const variable of variableReferences(expression)) {
          if (!module.variables.has(variable)) problems.push(`${name}/${file}: var.${variable} is not declared`);
          if (kind !== 'variable') used.add(variable);
        }
        for (const local of localReferences(expression)) {
          if (!module.locals.has(local)) problems.push(`${name}/${file}: local.${local} is not declared`);
        }
        for (const reference of resourceReferences(expression)) {
          const declared = reference.kind === 'data' ? module.dataSources.has(reference.address) : module.resources.has(reference.address);
          if (!declared) problems.push(`${name}/${file}: ${reference.kind === 'data' ? 'data.' : ''}${reference.address} is not declared`);
        }
      }
    }
  }
  for (const variable of module.variables.keys()) if (!used.has(variable)) problems.push(`${name}: variable "${variable}" is declared but never used`);
  return [...new Set(problems)];
}

/** The module pins Terraform >= 1.5 and the AWS provider to a 5.x range. */
export function checkVersions(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const block = module.terraformBlocks[0];
  if (!block) return [`${name}: no terraform block`];
  const problems: string[] = [];
  if (block['required_version'] !== '>= 1.5.0') problems.push(`${name}: required_version is ${JSON.stringify(block['required_version'])}, expected ">= 1.5.0"`);
  const aws = asBodies(block['required_providers'])
    .map((providers) => providers['aws'])
    .find((provider): provider is Body => provider !== undefined && provider !== null && typeof provider === 'object');
  if (!aws) problems.push(`${name}: required_providers does not pin aws`);
  else {
    if (aws['source'] !== 'hashicorp/aws') problems.push(`${name}: aws provider source is ${JSON.stringify(aws['source'])}`);
    if (typeof aws['version'] !== 'string' || !/^~> 5\.\d+$/.test(aws['version'])) problems.push(`${name}: aws provider version is ${JSON.stringify(aws['version'])}, expected "~> 5.N"`);
  }
  return problems;
}

/**
 * An example passes only variables the module declares and every variable the module has
 * no default for, and reads only outputs the module has.
 */
export function checkExample(example: TerraformModule, modules: ReadonlyMap<string, TerraformModule>): string[] {
  const name = path.relative(path.dirname(path.dirname(example.directory)), example.directory);
  const problems: string[] = [];
  if (example.moduleCalls.size === 0) problems.push(`${name}: calls no module`);
  for (const call of example.moduleCalls.values()) {
    const source = call.body['source'];
    const target = typeof source === 'string' ? modules.get(path.resolve(example.directory, source)) : undefined;
    if (!target) {
      problems.push(`${name}: module "${call.name}" has source ${JSON.stringify(source)}, which is none of the modules`);
      continue;
    }
    const passed = Object.keys(call.body).filter((argument) => !META_ARGUMENTS.has(argument));
    for (const argument of passed) if (!target.variables.has(argument)) problems.push(`${name}: module "${call.name}" passes "${argument}", which ${source} does not declare`);
    for (const variable of target.variables.values()) {
      if (!variable.hasDefault && !passed.includes(variable.name)) problems.push(`${name}: module "${call.name}" does not pass "${variable.name}", which has no default`);
    }
    for (const json of example.files.values()) {
      for (const expression of expressionsIn(json)) {
        for (const reference of moduleOutputReferences(expression)) {
          if (reference.module === call.name && !target.outputs.has(reference.output)) problems.push(`${name}: reads module.${call.name}.${reference.output}, which ${source} does not output`);
        }
      }
    }
  }
  return problems;
}

/**
 * The workers' security group admits nothing and lets out nothing to everywhere: no ingress
 * rule of any kind in the module, no egress rule open to 0.0.0.0/0 or ::/0 (literal, or
 * through a CIDR variable's default), none for all protocols, none over IPv6.
 */
export function checkWorkerSecurityGroup(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const problems: string[] = [];
  const anywhere = /(^|[^\d.])0\.0\.0\.0\/0|::\/0/;
  for (const resource of module.resources.values()) {
    if (resource.type === 'aws_vpc_security_group_ingress_rule') problems.push(`${name}: ${resource.address} is an ingress rule`);
    if (resource.type === 'aws_security_group_rule' && resource.body['type'] !== 'egress') problems.push(`${name}: ${resource.address} is an ingress rule`);
    if (resource.type === 'aws_security_group' && nestedBlocks(resource.body, 'ingress').length > 0) problems.push(`${name}: ${resource.address} has an inline ingress rule`);
    const egressBodies =
      resource.type === 'aws_vpc_security_group_egress_rule' || (resource.type === 'aws_security_group_rule' && resource.body['type'] === 'egress')
        ? [resource.body]
        : resource.type === 'aws_security_group'
          ? nestedBlocks(resource.body, 'egress')
          : [];
    for (const egress of egressBodies) {
      if (stringsIn(egress).some((text) => anywhere.test(text))) problems.push(`${name}: ${resource.address} opens egress to 0.0.0.0/0 or ::/0`);
      if ('cidr_ipv6' in egress || 'ipv6_cidr_blocks' in egress) problems.push(`${name}: ${resource.address} opens IPv6 egress`);
      if (egress['ip_protocol'] === '-1' || egress['protocol'] === '-1') problems.push(`${name}: ${resource.address} allows every protocol`);
    }
  }
  for (const [local, value] of module.locals) {
    if (stringsIn(value).some((text) => anywhere.test(text))) problems.push(`${name}: local.${local} names 0.0.0.0/0 or ::/0`);
  }
  for (const variable of module.variables.values()) {
    if (/cidrs?$/.test(variable.name) && stringsIn(variable.defaultValue).some((text) => anywhere.test(text))) problems.push(`${name}: variable "${variable.name}" defaults to 0.0.0.0/0 or ::/0`);
  }
  return problems;
}

/**
 * The instance roles' policies grant secretsmanager: and kms: actions on named resources
 * only: never "*", never a wildcard ARN, and every resource an expression that resolves to
 * variables or the module's own resources.
 */
export function checkSecretsPolicies(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const problems: string[] = [];
  const attached = new Set<string>();
  for (const resource of module.resources.values()) {
    if (resource.type !== 'aws_iam_role_policy') continue;
    for (const reference of resourceReferences(String(resource.body['policy'] ?? ''))) if (reference.kind === 'data') attached.add(reference.address);
  }
  let secretStatements = 0;
  for (const address of attached) {
    const document = module.dataSources.get(address);
    if (!document) continue;
    for (const statement of nestedBlocks(document.body, 'statement')) {
      const actions = stringsIn(statement['actions']);
      if (!actions.some((action) => action.startsWith('secretsmanager:') || action.startsWith('kms:'))) continue;
      if (actions.some((action) => action.startsWith('secretsmanager:'))) secretStatements += 1;
      const where = `${name}: data.${address} statement ${JSON.stringify(statement['sid'] ?? actions.join(','))}`;
      if (actions.some((action) => action === '*' || action.endsWith(':*'))) problems.push(`${where} grants a wildcard action`);
      const resources = statement['resources'];
      if (resources === undefined) {
        problems.push(`${where} has no resources`);
        continue;
      }
      for (const resource of stringsIn(resources)) {
        const resolved = resolveLocals(resource, module);
        if (resolved.includes('*')) problems.push(`${where} names a wildcard resource: ${resource}`);
        const expression = unwrapExpression(resource);
        if (!resource.startsWith('${') || !/(^|[^\w.])(var|local|aws_[a-z0-9_]+|statement)\./.test(expression)) problems.push(`${where} names a resource that is not a variable or the module's own: ${resource}`);
      }
    }
  }
  if (secretStatements === 0) problems.push(`${name}: no instance-role policy grants secretsmanager: actions (expected the secrets the instances read)`);
  return problems;
}

/** Every RDS instance encrypts its storage, resists deletion, keeps its password in Secrets Manager and stays private. */
export function checkDatabases(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const problems: string[] = [];
  const databases = [...module.resources.values()].filter((resource) => resource.type === 'aws_db_instance');
  if (databases.length === 0) problems.push(`${name}: no aws_db_instance`);
  for (const database of databases) {
    const expected: [string, unknown][] = [
      ['storage_encrypted', true],
      ['deletion_protection', true],
      ['manage_master_user_password', true],
      ['publicly_accessible', false],
    ];
    for (const [attribute, value] of expected) {
      if (database.body[attribute] !== value) problems.push(`${name}: ${database.address} has ${attribute} = ${JSON.stringify(database.body[attribute])}, expected ${String(value)}`);
    }
    if ('password' in database.body) problems.push(`${name}: ${database.address} sets a password, which would land in Terraform's state`);
  }
  return problems;
}

/**
 * Files the module reads exist, and each template's placeholders are exactly the keys the
 * module passes to templatefile().
 */
export function checkTemplates(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const problems: string[] = [];
  let templates = 0;
  for (const expression of [...module.files.values()].flatMap((json) => expressionsIn(json))) {
    for (const match of expression.matchAll(/"\$\{path\.module\}\/([^"]+)"/g)) {
      const relative = match[1] ?? '';
      if (!existsSync(path.join(module.directory, relative))) problems.push(`${name}: reads ${relative}, which does not exist`);
    }
    for (const match of expression.matchAll(/templatefile\("\$\{path\.module\}\/([^"]+)",\s*(local\.(\w+)|merge\(local\.(\w+),\s*\{([^}]*)\}\))\)/g)) {
      templates += 1;
      const [, relative = '', , plainLocal, mergedLocal, extraKeys = ''] = match;
      const local = module.locals.get(plainLocal ?? mergedLocal ?? '');
      if (local === null || typeof local !== 'object' || Array.isArray(local)) {
        problems.push(`${name}: templatefile(${relative}) takes variables the check cannot read (expected an object local)`);
        continue;
      }
      const passed = new Set([...Object.keys(local), ...[...extraKeys.matchAll(/(\w+)\s*=/g)].map((key) => key[1] ?? '')]);
      const templatePath = path.join(module.directory, relative);
      if (!existsSync(templatePath)) continue;
      const template = readFileSync(templatePath, 'utf8');
      if (template.includes('%{')) problems.push(`${name}: ${relative} uses template directives, which this check does not read`);
      const placeholders = new Set([...template.matchAll(/(?<!\$)\$\{([^}]*)\}/g)].map((placeholder) => placeholder[1] ?? ''));
      for (const placeholder of placeholders) if (!passed.has(placeholder)) problems.push(`${name}: ${relative} uses \${${placeholder}}, which templatefile() is not given`);
      for (const key of passed) if (!placeholders.has(key)) problems.push(`${name}: templatefile(${relative}) is given "${key}", which the template never uses`);
    }
  }
  if (templates === 0) problems.push(`${name}: no templatefile() call found`);
  return problems;
}

/** The boot scripts and user-data templates are valid bash (`bash -n`, templates with their placeholders filled). */
export function checkShellSyntax(module: TerraformModule): string[] {
  const name = path.basename(module.directory);
  const problems: string[] = [];
  const scripts = listFiles(path.join(module.directory, 'files')).filter((file) => file.endsWith('.sh'));
  for (const script of scripts) problems.push(...bashSyntaxProblems(`${name}/files/${path.basename(script)}`, readFileSync(script, 'utf8')));
  for (const template of listFiles(path.join(module.directory, 'templates')).filter((file) => file.endsWith('.sh.tftpl'))) {
    const filled = readFileSync(template, 'utf8').replace(/(?<!\$)\$\{[^}]*\}/g, 'placeholder');
    problems.push(...bashSyntaxProblems(`${name}/templates/${path.basename(template)}`, filled));
  }
  if (scripts.length === 0) problems.push(`${name}: no boot scripts in files/`);
  return problems;
}

/** EC2 refuses user data above 16 KB (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;
/** What the configuration, certificates and parameters are left at least, after compression. */
export const USER_DATA_ROOM_BYTES = 4 * 1024;

/**
 * The size of a user-data template gzipped as the module sends it (base64gzip), with the
 * placeholders of files filled by those files and the generated ones (configuration,
 * certificates, parameters) left empty.
 */
export function gzippedUserDataBytes(module: TerraformModule, template: string, variablesLocal: string): number {
  const sources = new Map(installedFiles(module, template, variablesLocal).map((file) => [file.placeholder, file.source]));
  const text = readFileSync(path.join(module.directory, 'templates', template), 'utf8').replace(/(?<!\$)\$\{(\w+)\}/g, (_, key: string) => {
    const source = sources.get(key);
    return source === undefined ? '' : readFileSync(source, 'utf8');
  });
  return gzipSync(text).length;
}

/** The scripts and units of a user-data template leave room in EC2's 16 KB for what Terraform generates. */
export function checkUserDataSize(module: TerraformModule, template: string, variablesLocal: string): string[] {
  const bytes = gzippedUserDataBytes(module, template, variablesLocal);
  return bytes <= USER_DATA_LIMIT_BYTES - USER_DATA_ROOM_BYTES
    ? []
    : [`${path.basename(module.directory)}: ${template} takes ${bytes} bytes gzipped before any configuration, leaving less than ${USER_DATA_ROOM_BYTES} of EC2's ${USER_DATA_LIMIT_BYTES}`];
}

/** The copies of the bootstrap library the modules ship are the same file. */
export function checkSharedLibrary(modules: readonly TerraformModule[]): string[] {
  const copies = modules.map((module) => ({ module: path.basename(module.directory), text: readFileSync(path.join(module.directory, 'files', 'bootstrap-lib.sh'), 'utf8') }));
  const [first, ...others] = copies;
  return others.filter((copy) => copy.text !== first?.text).map((copy) => `${copy.module}/files/bootstrap-lib.sh differs from ${first?.module}/files/bootstrap-lib.sh`);
}

/** A file the user data writes: where from (the module's file the template is given) and where to. */
export interface InstalledFile {
  readonly placeholder: string;
  /** Absolute path of the source file on this machine; undefined when Terraform generates the content. */
  readonly source: string | undefined;
  readonly target: string;
}

/** The files a user-data template writes with `cat >target <<'EOF'` / `${placeholder}`, matched to the files the module passes for them. */
export function installedFiles(module: TerraformModule, template: string, variablesLocal: string): InstalledFile[] {
  const text = readFileSync(path.join(module.directory, 'templates', template), 'utf8');
  const variables = module.locals.get(variablesLocal);
  const passed = variables !== null && typeof variables === 'object' && !Array.isArray(variables) ? (variables as Record<string, unknown>) : {};
  return [...text.matchAll(/cat >(\S+) <<'(\w+)'\n\$\{(\w+)\}\n\2\n/g)].map(([, target = '', , placeholder = '']) => {
    const expression = String(passed[placeholder] ?? '');
    const relative = /file\((?:coalesce\(var\.\w+,\s*)?"\$\{path\.module\}\/([^"]+)"\)?\)/.exec(expression)?.[1];
    return { placeholder, source: relative === undefined ? undefined : path.resolve(module.directory, relative), target };
  });
}

/**
 * The systemd units a user-data template installs (with the repository's own unit and the
 * module's drop-in for it) pass `systemd-analyze verify` in a scratch root holding this
 * host's system units: no unknown key, no missing dependency, every command executable.
 * The binaries fetched at boot (node, nats-server) get empty stand-ins there, since
 * verify only checks that an executable exists. Units named by `instances` are verified as
 * those instances of a template unit. Generated content (no source file) is left out.
 */
export function checkSystemdUnits(module: TerraformModule, template: string, variablesLocal: string, instances: readonly string[] = []): string[] {
  const name = path.basename(module.directory);
  const files = installedFiles(module, template, variablesLocal);
  const root = mkdtempSync(path.join(tmpdir(), 'airlock-systemd-root-'));
  try {
    const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((directory) => existsSync(directory));
    if (!hostUnits) return [`${name}: this host has no /usr/lib/systemd/system to verify against`];
    cpSync(hostUnits, path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    const units: string[] = [];
    for (const file of files) {
      if (file.source === undefined || !(file.target.startsWith('/etc/systemd/') || file.target.startsWith('/usr/local/libexec/'))) continue;
      const target = path.join(root, file.target);
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(file.source, target);
      if (file.target.startsWith('/usr/local/libexec/')) chmodSync(target, 0o755);
      const unit = path.basename(file.target);
      if (/\.(service|timer)$/.test(unit) && !file.target.includes('.d/')) units.push(unit);
    }
    for (const unit of units) {
      const text = readFileSync(path.join(root, 'etc/systemd/system', unit), 'utf8');
      for (const match of text.matchAll(/^Exec\w+=[-+@!:]*(\/\S+)/gm)) {
        const executable = path.join(root, match[1] ?? '');
        if (existsSync(executable)) continue;
        mkdirSync(path.dirname(executable), { recursive: true });
        writeFileSync(executable, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      }
    }
    const toVerify = [...units.filter((unit) => !unit.includes('@')), ...instances];
    const result = spawnSync('systemd-analyze', [`--root=${root}`, 'verify', '--man=no', ...toVerify], { encoding: 'utf8' });
    if (result.error) return [`${name}: systemd-analyze could not run: ${result.error.message}`];
    const output = `${result.stdout}${result.stderr}`.split(root).join('').trim();
    return result.status === 0 && output === '' ? [] : [`${name}: systemd-analyze verify ${toVerify.join(' ')}: exit ${result.status}: ${output}`];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function bashSyntaxProblems(label: string, text: string): string[] {
  try {
    execFileSync('bash', ['-n'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
    return [];
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    return [`${label}: bash -n: ${stderr}`];
  }
}

/** The expression with each local it names replaced by that local's own expression, recursively. */
function resolveLocals(expression: string, module: TerraformModule, seen: Set<string> = new Set()): string {
  let resolved = expression;
  for (const local of localReferences(expression)) {
    if (seen.has(local)) continue;
    seen.add(local);
    resolved += `\n${resolveLocals(JSON.stringify(module.locals.get(local) ?? ''), module, seen)}`;
  }
  return resolved;
}

function listFiles(directory: string): string[] {
  return existsSync(directory) ? readdirSync(directory).map((file) => path.join(directory, file)) : [];
}
