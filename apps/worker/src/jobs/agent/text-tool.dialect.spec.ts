import { EDIT_TOOL, TextToolDialect } from './text-tool.dialect';

const editBlock = (path: string, search: string, replace: string) => `${path}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
const named = (calls: ReturnType<typeof TextToolDialect.parse>) => calls.map((call) => [call.name, JSON.parse(call.arguments) as unknown]);

describe('TextToolDialect', () => {
  it('reads edit blocks as edit_file calls and fenced tool blocks as calls, edits first', () => {
    const answer = `Let me check.\n\`\`\`tool\n{"name": "run_tests", "arguments": {}}\n\`\`\`\n${editBlock('src/a.js', 'a - b', 'a + b')}`;
    expect(named(TextToolDialect.parse(answer))).toEqual([
      [EDIT_TOOL, { path: 'src/a.js', search: 'a - b', replace: 'a + b' }],
      ['run_tests', {}],
    ]);
  });

  it('turns what it cannot read into invalid_tool_call, so the model hears why', () => {
    const calls = named(TextToolDialect.parse('```tool\n{not json}\n```\n```tool\n{"arguments": {}}\n```\nsrc/a.js\n<<<<<<< SEARCH\nx\n'));
    expect(calls.map(([name]) => name)).toEqual(['invalid_tool_call', 'invalid_tool_call', 'invalid_tool_call']);
    expect(JSON.stringify(calls)).toContain('could not be read');
    expect(JSON.stringify(calls)).toContain('not valid JSON');
    expect(JSON.stringify(calls)).toContain('no \\"name\\"');
  });

  it('finds nothing in prose', () => {
    expect(TextToolDialect.parse('The bug is in add.')).toEqual([]);
  });

  it('renders tool results as one user message per answer, and calls as the blocks that made them', () => {
    const rendered = TextToolDialect.render([
      { role: 'system', content: 'rules' },
      { role: 'user', content: 'ticket' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'read_file', arguments: '{"path":"a.js"}' }, { id: 'c2', name: 'list_dir', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'read_file', content: 'line 1' },
      { role: 'tool', toolCallId: 'c2', name: 'list_dir', content: 'a.js' },
    ]);
    expect(rendered.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(rendered[2]?.content).toContain('```tool\n{"name":"read_file","arguments":{"path":"a.js"}}\n```');
    expect(rendered[3]?.content).toBe('Result of read_file (c1):\nline 1\n\nResult of list_dir (c2):\na.js');
  });

  it("joins a user message that follows an answer's results to them, so user and assistant alternate", () => {
    const rendered = TextToolDialect.render([
      { role: 'system', content: 'rules' },
      { role: 'user', content: 'ticket' },
      { role: 'assistant', content: 'a.js edit', toolCalls: [{ id: 'c1', name: 'edit_file', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', name: 'edit_file', content: 'Edited a.js.' },
      { role: 'user', content: 'Your change breaks rules of the repository policy' },
    ]);
    expect(rendered.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(rendered[3]?.content).toBe('Result of edit_file (c1):\nEdited a.js.\n\nYour change breaks rules of the repository policy');
  });

  it('describes every tool but edit_file, which it teaches as edit blocks', () => {
    const text = TextToolDialect.describeTools([
      { name: 'run_tests', description: 'Run the tests.', parameters: { type: 'object', properties: {} } },
      { name: EDIT_TOOL, description: 'Edit.', parameters: { type: 'object', properties: {} } },
    ]);
    expect(text).toContain('- run_tests: Run the tests.');
    expect(text).not.toContain(`- ${EDIT_TOOL}:`);
    expect(text).toContain('<<<<<<< SEARCH');
  });
});
