import { useCallback, useEffect, useRef, useState } from 'react';
import { problemOf, unreachableProblem, type ApiProblem } from './problems';

/** What a read of the API gave: the body, or the problem to show. */
export type ApiResult<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly problem: ApiProblem; readonly status: number };

/** Settles an openapi-fetch call into its body or its problem; a network failure is a problem too. */
export async function settle<T>(request: Promise<{ readonly data?: T; readonly error?: unknown; readonly response: Response }>): Promise<ApiResult<T>> {
  try {
    const { data, error, response } = await request;
    if (data !== undefined) return { ok: true, data };
    return { ok: false, problem: problemOf(response, error), status: response.status };
  } catch {
    return { ok: false, problem: unreachableProblem(), status: 0 };
  }
}

/** Data read from the API, kept on screen while it is read again. */
export interface Resource<T> {
  /** The last body read for the current key; null until the first answer. */
  readonly data: T | null;
  /** Why the last read failed; null when it did not. The data of an earlier read stays. */
  readonly problem: ApiProblem | null;
  readonly status: number | null;
  readonly loading: boolean;
  /** No answer yet for the current key: neither data nor a problem to show (a table says "Loading…"). */
  readonly awaitingFirstAnswer: boolean;
  /** When the data was last read (ms since the epoch). */
  readonly readAt: number | null;
  /** Reads it again, keeping what is shown until the answer comes. */
  reload(): void;
  /**
   * Changes the data shown without reading it again, for a write whose answer already says what
   * changed (a revoked token, a renamed worker). Nothing happens before the data is first read.
   */
  update(change: (data: T) => T): void;
}

const NOTHING = { data: null, problem: null, status: null, readAt: null } as const;

/**
 * Reads `load()` when `key` changes (the id in the address, say) and on reload(). A new key
 * drops the data of the old one, so one policy's data never shows under another's address;
 * a reload keeps it until the answer replaces it, so a refresh does not blank the page.
 */
export function useApiResource<T>(key: string, load: () => Promise<ApiResult<T>>): Resource<T> {
  const [state, setState] = useState<Omit<Resource<T>, 'reload' | 'update' | 'loading' | 'awaitingFirstAnswer'> & { readonly key: string }>({ ...NOTHING, key });
  const [loading, setLoading] = useState(true);
  const [reloads, setReloads] = useState(0);
  const latestLoad = useRef(load);
  useEffect(() => {
    latestLoad.current = load;
  });

  useEffect(() => {
    let current = true;
    setLoading(true);
    setState((shown) => (shown.key === key ? shown : { ...NOTHING, key }));
    void latestLoad.current().then((result) => {
      if (!current) return;
      setLoading(false);
      setState((shown) =>
        result.ok
          ? { key, data: result.data, problem: null, status: 200, readAt: Date.now() }
          : { key, data: shown.key === key ? shown.data : null, problem: result.problem, status: result.status, readAt: shown.key === key ? shown.readAt : null },
      );
    });
    return () => {
      current = false;
    };
  }, [key, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const update = useCallback((change: (data: T) => T) => setState((shown) => (shown.data === null ? shown : { ...shown, data: change(shown.data) })), []);
  // Until the effect has run for a new key, what state holds is the old key's: not shown.
  const shown = state.key === key ? state : { ...NOTHING, key };
  return {
    data: shown.data,
    problem: shown.problem,
    status: shown.status,
    readAt: shown.readAt,
    loading: loading || state.key !== key,
    awaitingFirstAnswer: shown.data === null && shown.problem === null,
    reload,
    update,
  };
}
