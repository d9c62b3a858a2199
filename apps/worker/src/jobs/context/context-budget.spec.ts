import { CONTEXT_SHARE, DEFAULT_CONTEXT_WINDOW, OPENING_RESERVE_TOKENS, contextBudget } from './context-budget';

describe('contextBudget', () => {
  // 'Fix add\nadd subtracts': 21 characters, 7 tokens at the engine's estimate.
  const ticket = { title: 'Fix add', description: 'add subtracts' };

  it('gives the files a share of the window left after the answer, the opening and the ticket', () => {
    expect(contextBudget({ contextWindow: 32_768, maxModelTokens: 4096, ticket })).toEqual({
      contextWindow: 32_768,
      windowSource: 'endpoint',
      tokenBudget: Math.floor((32_768 - 4096 - OPENING_RESERVE_TOKENS - 7) * CONTEXT_SHARE),
    });
  });

  it('assumes the default window when the endpoint does not say, or says nonsense', () => {
    for (const contextWindow of [undefined, 0, -5, 1.5, Number.NaN]) {
      expect(contextBudget({ contextWindow, maxModelTokens: 1024, ticket })).toEqual({
        contextWindow: DEFAULT_CONTEXT_WINDOW,
        windowSource: 'default',
        tokenBudget: Math.floor((DEFAULT_CONTEXT_WINDOW - 1024 - OPENING_RESERVE_TOKENS - 7) * CONTEXT_SHARE),
      });
    }
  });

  it('shrinks with the window and with a longer ticket, and never goes below zero', () => {
    const small = contextBudget({ contextWindow: 8192, maxModelTokens: 1024, ticket }).tokenBudget;
    const large = contextBudget({ contextWindow: 65_536, maxModelTokens: 1024, ticket }).tokenBudget;
    expect(small).toBeLessThan(large);
    const longTicket = { title: 'Fix add', description: 'add subtracts '.repeat(300) };
    expect(contextBudget({ contextWindow: 8192, maxModelTokens: 1024, ticket: longTicket }).tokenBudget).toBeLessThan(small);
    expect(contextBudget({ contextWindow: 4096, maxModelTokens: 4096, ticket }).tokenBudget).toBe(0);
  });
});
