import { describeLoginRefusal, describeWait, fieldProblems, problemOf, type ApiProblem } from './problems';

describe('problemOf', () => {
  it('reads the error body and the Retry-After header', () => {
    const response = new Response(null, { status: 429, headers: { 'Retry-After': '42' } });
    expect(problemOf(response, { statusCode: 429, code: 'RATE_LIMITED', message: 'too many attempts' })).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
      message: 'too many attempts',
      retryAfterSeconds: 42,
    });
  });

  it('describes an answer without an error body by its status', () => {
    const problem = problemOf(new Response('<html>', { status: 502, statusText: 'Bad Gateway' }), undefined);
    expect(problem).toMatchObject({ status: 502, code: 'HTTP_502', retryAfterSeconds: null });
    expect(problem.message).toContain('502');
  });
});

describe('fieldProblems', () => {
  const fields = ['repoAlias', 'baseRef', 'ticket.title', 'ticket.description'];

  it('puts each problem beside its field', () => {
    expect(fieldProblems('repoAlias: expected a repository alias matching ^[a-z0-9]$; ticket.title: expected one non-blank line', fields)).toEqual({
      byField: { repoAlias: 'expected a repository alias matching ^[a-z0-9]$', 'ticket.title': 'expected one non-blank line' },
      other: [],
    });
  });

  it('keeps problems of fields the form does not have, and messages naming no field', () => {
    expect(fieldProblems('body: expected a JSON object', fields)).toEqual({ byField: {}, other: ['body: expected a JSON object'] });
    expect(fieldProblems('no worker of this tenant serves that repository', fields)).toEqual({ byField: {}, other: ['no worker of this tenant serves that repository'] });
  });

  it('does not split inside a problem that itself holds "; "', () => {
    expect(fieldProblems('baseRef: expected a ref; not a range', fields).byField).toEqual({ baseRef: 'expected a ref; not a range' });
  });
});

describe('describeWait', () => {
  it('counts seconds, then minutes', () => {
    expect(describeWait(1)).toBe('1 second');
    expect(describeWait(45)).toBe('45 seconds');
    expect(describeWait(900)).toBe('15 minutes');
  });
});

describe('describeLoginRefusal', () => {
  const refusal = (code: string, message: string, retryAfterSeconds: number | null = null): ApiProblem => ({ status: 429, code, message, retryAfterSeconds });

  it('shows the server\'s message as it is', () => {
    expect(describeLoginRefusal(refusal('INVALID_CREDENTIALS', 'the email or the password is wrong'))).toBe('the email or the password is wrong');
    expect(describeLoginRefusal(refusal('ACCOUNT_LOCKED', 'the account is locked until 10:15'))).toBe('the account is locked until 10:15');
  });

  it('adds the wait of a rate limit from Retry-After unless the message says it', () => {
    expect(describeLoginRefusal(refusal('RATE_LIMITED', 'too many login attempts', 42))).toBe('too many login attempts. Try again in 42 seconds.');
    expect(describeLoginRefusal(refusal('RATE_LIMITED', 'too many login attempts; try again in 42 seconds', 42))).toBe('too many login attempts; try again in 42 seconds');
  });
});
