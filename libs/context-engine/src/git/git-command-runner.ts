/**
 * The one git capability the engine needs: run `git <args>` in a directory and get its
 * output. The worker passes its own hardened runner (argv only, scrubbed environment, no
 * hooks, output cap); its `GitRunner` fits this shape as it is. The runner must reject
 * (not resolve) when git exits non-zero, and honour `signal` and `timeoutMs`.
 */
export interface GitCommandRunner {
  run(
    args: readonly string[],
    options: { readonly cwd: string; readonly signal?: AbortSignal; readonly timeoutMs?: number },
  ): Promise<{ readonly stdout: string }>;
}
