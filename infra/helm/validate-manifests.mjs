// Validates a rendered multi-document YAML stream (files named as arguments, else stdin)
// against the Kubernetes OpenAPI schemas, as kubernetes-models compiles them, and — as
// `kubeconform -strict` would — refuses fields the schemas do not know, read from the same
// package's type declarations. Each document's apiVersion/kind must map to a model: an unknown
// one is an error, never skipped. Prints a JSON report; exits 1 when any document fails.
//
// An ES module because kubernetes-models 5 ships ES modules only, which Jest's CommonJS
// loader cannot import: the Jest spec runs this as a child process.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

const modelsRoot = dirname(fileURLToPath(import.meta.resolve('kubernetes-models')));

/** The model class for an apiVersion/kind, or an error message. */
async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return { error: 'missing apiVersion or kind' };
  let module;
  try {
    module = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    return { error: `unknown apiVersion ${apiVersion}` };
  }
  const model = module[kind];
  if (typeof model !== 'function' || model.apiVersion !== apiVersion || model.kind !== kind) return { error: `unknown kind ${kind} in ${apiVersion}` };
  return { model };
}

// The type declarations of every model, for the unknown-field check. One program for all kinds.
const declarationFiles = new Map();
function declarationFileOf(apiVersion, kind) {
  return join(modelsRoot, ...apiVersion.split('/'), `${kind}.d.ts`);
}
let program;
function checkerFor(files) {
  program = ts.createProgram(files, { noEmit: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [], skipLibCheck: true });
  return program.getTypeChecker();
}

function declaredModelType(checker, apiVersion, kind) {
  const source = program.getSourceFile(declarationFileOf(apiVersion, kind));
  const declaration = source?.statements.find((statement) => ts.isInterfaceDeclaration(statement) && statement.name.text === `I${kind}`);
  if (!declaration) return undefined;
  return checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(declaration.name));
}

/** The object-shaped member of a (possibly optional or union) type, if any. */
function objectShapeOf(type) {
  const members = type.isUnion() ? type.types : [type];
  return members.find((member) => member.flags & ts.TypeFlags.Object);
}

/** Paths of the fields in `value` that `type` does not declare. */
function unknownFields(checker, value, type, path, found) {
  if (value === null || typeof value !== 'object' || type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return found;
  const shape = objectShapeOf(type);
  if (!shape) return found;
  if (Array.isArray(value)) {
    if (checker.isArrayType(shape)) {
      const [element] = checker.getTypeArguments(shape);
      value.forEach((item, index) => unknownFields(checker, item, element, `${path}[${index}]`, found));
    }
    return found;
  }
  const indexType = shape.getStringIndexType();
  for (const [key, child] of Object.entries(value)) {
    const property = shape.getProperty(key);
    if (property) unknownFields(checker, child, checker.getTypeOfSymbol(property), `${path}.${key}`, found);
    else if (indexType) unknownFields(checker, child, indexType, `${path}.${key}`, found);
    else found.push(`${path}.${key}`);
  }
  return found;
}

const text = process.argv.length > 2 ? process.argv.slice(2).map((file) => readFileSync(file, 'utf8')).join('\n---\n') : readFileSync(0, 'utf8');
const documents = parseAllDocuments(text);
const parsed = [];
const errors = [];
for (const [index, document] of documents.entries()) {
  const source = /Source: (\S+)/.exec(`${document.commentBefore ?? ''}\n${document.contents?.commentBefore ?? ''}`)?.[1] ?? `document ${index + 1}`;
  if (document.errors.length > 0) {
    errors.push({ source, error: `YAML: ${document.errors.map((error) => error.message).join('; ')}` });
    continue;
  }
  const object = document.toJS();
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    errors.push({ source, error: 'not a Kubernetes object (an empty or non-mapping document)' });
    continue;
  }
  const where = `${source} ${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
  const { model, error } = await modelFor(object.apiVersion, object.kind);
  if (error) {
    errors.push({ source: where, error });
    continue;
  }
  try {
    new model(object).validate();
  } catch (validationError) {
    errors.push({ source: where, error: `schema: ${validationError.message}` });
  }
  declarationFiles.set(`${object.apiVersion}/${object.kind}`, declarationFileOf(object.apiVersion, object.kind));
  parsed.push({ where, object });
}

if (parsed.length > 0) {
  const checker = checkerFor([...new Set(declarationFiles.values())]);
  for (const { where, object } of parsed) {
    const type = declaredModelType(checker, object.apiVersion, object.kind);
    if (!type) {
      errors.push({ source: where, error: 'no type declaration to check its fields against' });
      continue;
    }
    const unknown = unknownFields(checker, object, type, '', []);
    if (unknown.length > 0) errors.push({ source: where, error: `unknown fields: ${unknown.join(', ')}` });
  }
}

const kinds = {};
for (const { object } of parsed) kinds[`${object.apiVersion}/${object.kind}`] = (kinds[`${object.apiVersion}/${object.kind}`] ?? 0) + 1;
if (documents.length === 0) errors.push({ source: 'input', error: 'no documents' });
process.stdout.write(`${JSON.stringify({ documents: documents.length, kinds, errors }, null, 2)}\n`);
process.exit(errors.length > 0 ? 1 : 0);
