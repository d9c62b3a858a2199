import { describeLibraryError, isUnreachable } from './oidc-client';

describe('describeLibraryError', () => {
  it('names the errors along the chain of causes by name and code', () => {
    const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4444'), { code: 'ECONNREFUSED' });
    const fetchFailed = new TypeError('fetch failed', { cause: system });
    const wrapped = Object.assign(new Error('something went wrong', { cause: fetchFailed }), { name: 'ClientError', code: 'OAUTH_RESPONSE_IS_NOT_CONFORM' });
    expect(describeLibraryError(wrapped)).toBe('ClientError OAUTH_RESPONSE_IS_NOT_CONFORM TypeError Error ECONNREFUSED');
  });

  it('says the OAuth error a provider answered, and never a message or a cause that is not an error', () => {
    const code = 'SplxlOBeZQQYbYS6WxSbIA';
    const refused = Object.assign(new Error(`the code ${code} was refused`, { cause: { code, error_description: `bad ${code}` } }), {
      name: 'ResponseBodyError',
      code: 'OAUTH_RESPONSE_BODY_ERROR',
      error: 'invalid_grant',
    });
    const described = describeLibraryError(refused);
    expect(described).toBe('ResponseBodyError OAUTH_RESPONSE_BODY_ERROR invalid_grant');
    expect(described).not.toContain(code);
    expect(describeLibraryError(Object.assign(new Error('x'), { code: 'has spaces and a secret' }))).toBe('Error');
    expect(describeLibraryError('a string')).toBe('string');
  });
});

describe('isUnreachable', () => {
  it('tells no answer at all (no connection, a timeout) from an answer that does not hold', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(isUnreachable(refused)).toBe(true);
    expect(isUnreachable(Object.assign(new Error('wrapped', { cause: refused }), { name: 'ClientError' }))).toBe(true);
    expect(isUnreachable(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(true);
    expect(isUnreachable(Object.assign(new Error('server responded with an error'), { name: 'ResponseBodyError', error: 'invalid_grant' }))).toBe(false);
    expect(isUnreachable(new TypeError('x is not a function'))).toBe(false);
  });
});
