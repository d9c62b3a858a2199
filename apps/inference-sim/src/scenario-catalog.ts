import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { instructionText, type ChatCompletionRequest } from './chat-completion-request.schema';
import { formatFieldPath } from './field-path';
import { DEFAULT_SCENARIO_NAME, scenarioSchema, type Scenario } from './scenario.schema';
import { ScenarioFileInvalidError } from './scenario-file-invalid.error';
import { ScenariosDirUnreadableError } from './scenarios-dir-unreadable.error';

const SCENARIO_FILE = /\.(ya?ml|json)$/i;

/**
 * The scenarios of one directory, in filename order, and the rule choosing which one answers
 * a request: the first whose `match` holds, else the one named `default`, else none.
 */
export class ScenarioCatalog {
  private readonly ordered: readonly Scenario[];
  private readonly fallback: Scenario | undefined;

  /** @param scenarios In filename order, names unique. */
  constructor(scenarios: readonly Scenario[]) {
    // `default` is only a fallback, so a catch-all default cannot shadow files sorted after it.
    this.ordered = scenarios.filter((scenario) => scenario.name !== DEFAULT_SCENARIO_NAME);
    this.fallback = scenarios.find((scenario) => scenario.name === DEFAULT_SCENARIO_NAME);
  }

  /** Model ids named by `match.model`; the server lists and accepts them besides `--model`. */
  get modelIds(): string[] {
    return [...new Set(this.ordered.flatMap((scenario) => scenario.match.model ?? []))];
  }

  /** The scenario answering `request`, or undefined when none matches and there is no default. */
  match(request: ChatCompletionRequest): Scenario | undefined {
    const text = instructionText(request.messages);
    const lastRole = request.messages.at(-1)?.role;
    const matched = this.ordered.find(({ match }) => {
      if (match.model !== undefined && match.model !== request.model) return false;
      if (match.last_role !== undefined && match.last_role !== lastRole) return false;
      return match.contains.every((needle) => text.includes(needle));
    });
    return matched ?? this.fallback;
  }
}

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` file of `dir` (not recursing), validates each,
 * and fails fast on the first bad one with an error naming the file and the field.
 */
export async function loadScenarioCatalog(dir: string): Promise<ScenarioCatalog> {
  const files = await listScenarioFiles(dir);
  const scenarios: Scenario[] = [];
  const fileByName = new Map<string, string>();
  for (const file of files) {
    const scenario = await readScenarioFile(file);
    const earlier = fileByName.get(scenario.name);
    if (earlier !== undefined) {
      throw new ScenarioFileInvalidError(file, 'name', `"${scenario.name}" is already used by "${earlier}"`);
    }
    fileByName.set(scenario.name, file);
    scenarios.push(scenario);
  }
  return new ScenarioCatalog(scenarios);
}

async function listScenarioFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile() && SCENARIO_FILE.test(entry.name))
      .map((entry) => entry.name)
      .sort() // code-unit order, independent of the machine's locale
      .map((name) => path.join(dir, name));
  } catch (error) {
    throw new ScenariosDirUnreadableError(dir, error instanceof Error ? error.message : String(error));
  }
}

async function readScenarioFile(file: string): Promise<Scenario> {
  let document: unknown;
  try {
    const text = await readFile(file, 'utf8');
    // YAML is a superset of JSON, so one parser serves both extensions.
    document = parseYaml(text);
  } catch (error) {
    throw new ScenarioFileInvalidError(file, null, error instanceof Error ? error.message : String(error));
  }
  const result = scenarioSchema.safeParse(document);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  // zod always reports at least one issue on failure; this only satisfies noUncheckedIndexedAccess.
  if (issue === undefined) throw new ScenarioFileInvalidError(file, null, 'does not match the scenario schema');
  throw new ScenarioFileInvalidError(file, formatFieldPath(issue.path) || '(root)', issue.message);
}
