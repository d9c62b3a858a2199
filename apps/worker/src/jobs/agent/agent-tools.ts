import type { ToolSpec } from '../inference/conversation';
import { EDIT_TOOL } from './text-tool.dialect';

const object = (properties: Record<string, unknown>, required: readonly string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });

/** The tools the agent loop offers the model; each is implemented by WorkspaceTools. */
export const AGENT_TOOLS: readonly ToolSpec[] = [
  {
    name: 'read_file',
    description: 'Read a file of the repository with line numbers, whole or a range of lines.',
    parameters: object({ path: { type: 'string' }, start_line: { type: 'integer', minimum: 1 }, end_line: { type: 'integer', minimum: 1 } }, ['path']),
  },
  {
    name: 'list_dir',
    description: 'List a directory of the repository (the root when path is empty); directories end in /.',
    parameters: object({ path: { type: 'string' } }),
  },
  {
    name: 'search_code',
    description: 'Search the repository for a word or phrase: the lines that contain it, and the files and definitions that rank highest for it.',
    parameters: object({ query: { type: 'string', minLength: 1 } }, ['query']),
  },
  {
    name: EDIT_TOOL,
    description: 'Replace the lines `search` with `replace` in a file. `search` must match the file (exact lines, copied); leave it empty to create a new file.',
    parameters: object({ path: { type: 'string' }, search: { type: 'string' }, replace: { type: 'string' } }, ['path', 'search', 'replace']),
  },
  {
    name: 'revert_file',
    description: 'Undo your changes to a file: put it back as it was before your change (a file you created is removed).',
    parameters: object({ path: { type: 'string' } }, ['path']),
  },
  {
    name: 'run_tests',
    description: "Run the repository's tests on the code as you have changed it: the exit code, the failing tests compared with before your change, and the end of the output.",
    parameters: object({}),
  },
  {
    name: 'finish',
    description: 'End your work when the change is complete (or when you cannot do better); give a short summary.',
    parameters: object({ summary: { type: 'string' } }, ['summary']),
  },
];

export const FINISH_TOOL = 'finish';
export const REVERT_TOOL = 'revert_file';
