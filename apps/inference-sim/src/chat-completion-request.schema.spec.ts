import { instructionText, parseChatCompletionRequest } from './chat-completion-request.schema';
import { OpenAiApiError } from './openai-api.error';

function refusal(body: unknown): OpenAiApiError {
  try {
    parseChatCompletionRequest(body);
  } catch (error) {
    if (error instanceof OpenAiApiError) return error;
    throw error;
  }
  throw new Error('expected the body to be refused');
}

describe('parseChatCompletionRequest', () => {
  it('accepts a minimal request and keeps parameters it does not read', () => {
    const parsed = parseChatCompletionRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0,
    });

    expect(parsed).toMatchObject({ model: 'm', temperature: 0 });
  });

  it('names a missing field', () => {
    const error = refusal({ model: 'm' });

    expect(error).toMatchObject({ status: 400, param: 'messages', code: 'missing_required_parameter' });
    expect(error.message).toBe("Missing required parameter: 'messages'.");
  });

  it('names a field of the wrong type, with what it expected', () => {
    const error = refusal({ model: 'm', messages: 'hi' });

    expect(error).toMatchObject({ status: 400, param: 'messages', code: 'invalid_type' });
    expect(error.message).toBe("Invalid 'messages': expected array, got string.");
  });

  it('names a nested field with OpenAI-style indices', () => {
    const error = refusal({ model: 'm', messages: [{ role: 'user', content: 'a' }, { role: 'robot', content: 'b' }] });

    expect(error).toMatchObject({ status: 400, param: 'messages[1].role', code: 'invalid_value' });
  });

  it('refuses an empty messages list', () => {
    expect(refusal({ model: 'm', messages: [] })).toMatchObject({ status: 400, param: 'messages' });
  });

  it('refuses a body that is not an object', () => {
    expect(refusal([1, 2])).toMatchObject({ status: 400, code: 'invalid_body', param: null });
  });
});

describe('instructionText', () => {
  it('joins system, developer and user text, skipping replies and tool output', () => {
    const { messages } = parseChatCompletionRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'rules' },
        { role: 'developer', content: [{ type: 'text', text: 'more rules' }] },
        { role: 'user', content: 'task' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c', content: 'output' },
      ],
    });

    expect(instructionText(messages)).toBe('rules\nmore rules\ntask');
  });
});
