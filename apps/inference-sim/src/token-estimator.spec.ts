import { parseChatCompletionRequest } from './chat-completion-request.schema';
import { estimateCompletionTokens, estimatePromptTokens, estimateTextTokens } from './token-estimator';

describe('token estimator', () => {
  it('counts ceil(chars / 4) for text', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('abcd')).toBe(1);
    expect(estimateTextTokens('abcde')).toBe(2);
  });

  it('adds 3 per prompt and 4 per message to the text of each message', () => {
    const { messages } = parseChatCompletionRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'abcdefgh' }, // 2 tokens
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'fn', arguments: '{}' } }], // 1
        },
        { role: 'user', content: 'a' }, // 1
      ],
    });

    expect(estimatePromptTokens(messages)).toBe(3 + (4 + 2) + (4 + 1) + (4 + 1));
  });

  it('counts content and tool call names and arguments of a completion', () => {
    expect(estimateCompletionTokens('abcd', [{ name: 'read', arguments: '{"p":1}' }])).toBe(Math.ceil(15 / 4));
    expect(estimateCompletionTokens(null, [])).toBe(0);
  });
});
