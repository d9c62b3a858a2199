/** One file given to the model: its worktree-relative path and text. Stays on the worker. */
export interface ContextFile {
  readonly path: string;
  readonly content: string;
}

/** What the selector ranks against and how much it may return. */
export interface ContextRequest {
  readonly worktree: string;
  readonly ticket: { readonly title: string; readonly description: string };
  readonly maxFiles: number;
  readonly maxBytes: number;
  /** Globs from `.airlock.yml` (`context.include` / `context.exclude`); empty means no filter. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly signal: AbortSignal;
}

/**
 * Picks the files the model sees. An interface because the lexical ranking here is a
 * stand-in for a real, commit-cached index (planned: docs/architecture.md, "The fix job").
 */
export interface ContextSelector {
  select(request: ContextRequest): Promise<readonly ContextFile[]>;
}
