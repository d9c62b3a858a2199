/**
 * Counts the tokens a text costs in the model's context. The engine cannot know the
 * tokenizer of whatever model the customer serves, so the caller may pass one.
 */
export type TokenCounter = (text: string) => number;

/**
 * The default: one token per three characters, rounded up. BPE tokenizers of code models
 * average nearer four characters per token on source code; three errs towards sending less
 * rather than overflowing the window.
 */
export const estimateTokens: TokenCounter = (text) => Math.ceil(text.length / 3);
