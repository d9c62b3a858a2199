/**
 * Raised by the cache codec for a cached index that cannot be trusted: not gzip, too large,
 * a different format version, a digest that does not match, a field out of shape. The
 * engine catches it, deletes the file, reports why and rebuilds: it never reaches callers
 * of `ContextEngine.open`, and is exported so that logs can name its code.
 */
export class IndexCacheCorruptError extends Error {
  override readonly name = 'IndexCacheCorruptError';
  readonly code = 'CONTEXT_INDEX_CACHE_CORRUPT';

  constructor(readonly reason: string) {
    super(`context engine: cached index rejected: ${reason}`);
  }
}
