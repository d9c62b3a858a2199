import { estimateTokens } from '@airlock/context-engine';

/**
 * The context window assumed when neither the endpoint's config nor its server says: 8192
 * tokens, what llama.cpp's server and Ollama commonly run with. Erring small is the safe
 * side: a prompt past the window is cut silently by such servers (PROMPT_TRUNCATED, or a
 * model that never saw the ticket), while context left out can still be read with the
 * tools.
 */
export const DEFAULT_CONTEXT_WINDOW = 8192;

/**
 * Tokens the opening request needs besides the ticket and the files: the system prompt
 * (about 1,000 characters), the tools (about 1,800 characters as native definitions or in
 * the text protocol), the section on the baseline's failing tests (up to 20 test ids) and
 * the headings; about 5,000 characters at the engine's 3 characters per token, rounded up
 * for the server's chat template.
 */
export const OPENING_RESERVE_TOKENS = 2048;

/**
 * The share of what is left after the answer and the opening that the files may take. The
 * rest is for the loop's later turns: every read, search and test run the model asks for
 * comes back into the same window.
 */
export const CONTEXT_SHARE = 0.5;

/** How a budget was arrived at, for the local log. */
export interface ContextBudget {
  readonly contextWindow: number;
  /** `endpoint`: the endpoint's config or server said; `default`: DEFAULT_CONTEXT_WINDOW. */
  readonly windowSource: 'endpoint' | 'default';
  readonly tokenBudget: number;
}

/**
 * Tokens the files and symbols shown to the model may take:
 * CONTEXT_SHARE × (context window − `maxModelTokens` − OPENING_RESERVE_TOKENS − the ticket),
 * never below zero. A window the endpoint does not report (undefined, or not a whole number
 * above zero) is taken as DEFAULT_CONTEXT_WINDOW.
 */
export function contextBudget(input: {
  readonly contextWindow: number | undefined;
  readonly maxModelTokens: number;
  readonly ticket: { readonly title: string; readonly description: string };
}): ContextBudget {
  const reported = input.contextWindow;
  const known = reported !== undefined && Number.isSafeInteger(reported) && reported > 0;
  const contextWindow = known ? reported : DEFAULT_CONTEXT_WINDOW;
  const ticketTokens = estimateTokens(`${input.ticket.title}\n${input.ticket.description}`);
  const left = contextWindow - input.maxModelTokens - OPENING_RESERVE_TOKENS - ticketTokens;
  return { contextWindow, windowSource: known ? 'endpoint' : 'default', tokenBudget: Math.max(0, Math.floor(left * CONTEXT_SHARE)) };
}
