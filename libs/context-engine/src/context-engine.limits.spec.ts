import { DEFAULT_CONTEXT_ENGINE_LIMITS, resolveLimits } from './context-engine.limits';
import { ContextRequestInvalidError } from './errors/context-request-invalid.error';

describe('resolveLimits', () => {
  it('overlays the caller limits on the defaults', () => {
    expect(resolveLimits({ maxFiles: 10 })).toEqual({ ...DEFAULT_CONTEXT_ENGINE_LIMITS, maxFiles: 10 });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p, naming the limit', (value) => {
    expect(() => resolveLimits({ timeBudgetMs: value })).toThrow(new ContextRequestInvalidError('limits.timeBudgetMs', 'a whole number above zero'));
  });
});
