import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { describeValidationErrors, REQUEST_VALIDATOR_OPTIONS } from '../../common/request-validation';
import { CreateJobDto } from './create-job.dto';

async function problems(body: object): Promise<string[]> {
  return describeValidationErrors(await validate(plainToInstance(CreateJobDto, body), REQUEST_VALIDATOR_OPTIONS));
}

const fix = { repoAlias: 'demo', baseRef: 'release/1.2', ticket: { title: 'Fix it', description: 'details' } };

describe('CreateJobDto', () => {
  it('accepts a fix job (the default kind) and a bare noop job', async () => {
    expect(await problems(fix)).toEqual([]);
    expect(await problems({ kind: 'noop' })).toEqual([]);
  });

  it('names the field and what it expects', async () => {
    expect(await problems({ ...fix, repoAlias: '-bad' })).toEqual(['repoAlias: expected a repository alias matching ^[a-z0-9][a-z0-9._-]{0,62}$']);
    expect(await problems({ ...fix, baseRef: 'a..b' })).toEqual(['baseRef: expected a git ref name of at most 200 characters']);
    expect(await problems({ ...fix, kind: 'deploy' })).toEqual(['kind: expected one of fix, noop, review, index']);
    expect(await problems({ kind: 'fix' })).toEqual(
      expect.arrayContaining([
        'repoAlias: expected a string (required for a fix job)',
        'baseRef: expected a string (required for a fix job)',
        'ticket: expected an object (required for a fix job, unless ticketRef names the ticket)',
      ]),
    );
  });

  it('bounds the ticket: one-line title, description up to 16 KiB of UTF-8', async () => {
    expect(await problems({ ...fix, ticket: { title: 'two\nlines' } })).toEqual(['ticket.title: expected one non-blank line']);
    expect(await problems({ ...fix, ticket: { title: 'x'.repeat(201) } })).toEqual(['ticket.title: expected 1..200 characters']);
    expect(await problems({ ...fix, ticket: { title: 't', description: 'é'.repeat(8_193) } })).toEqual(['ticket.description: expected at most 16384 bytes of UTF-8']);
  });

  it('refuses a ticket that is not an object, even an array of valid tickets', async () => {
    expect(await problems({ ...fix, ticket: [{ title: 'x' }] })).toEqual(['ticket: expected an object']);
    expect(await problems({ ...fix, ticket: 'Fix it' })).toEqual(['ticket: expected an object']);
    expect(await problems({ ...fix, ticket: null })).toEqual(['ticket: expected an object (required for a fix job, unless ticketRef names the ticket)']);
  });

  it('refuses text PostgreSQL cannot store: NUL characters and unpaired surrogates', async () => {
    expect(await problems({ ...fix, ticket: { title: 'a\u0000b' } })).toEqual(['ticket.title: expected no NUL (\\u0000) characters']);
    expect(await problems({ ...fix, ticket: { title: 'a\ud800b' } })).toEqual(['ticket.title: expected well-formed Unicode (no unpaired surrogate such as \\ud800)']);
    expect(await problems({ ...fix, ticket: { title: 't', description: '\udc00' } })).toEqual([
      'ticket.description: expected well-formed Unicode (no unpaired surrogate such as \\ud800)',
    ]);
    // A surrogate pair is one well-formed character.
    expect(await problems({ ...fix, ticket: { title: 'fix 😀', description: '😀' } })).toEqual([]);
  });

  it('reports the type before the format, and null as a wrong type rather than absent', async () => {
    expect(await problems({ ...fix, repoAlias: 5 })).toEqual(['repoAlias: expected a string']);
    expect(await problems({ ...fix, ticket: { title: 5 } })).toEqual(['ticket.title: expected a string']);
    expect(await problems({ ...fix, kind: null })).toEqual(['kind: expected one of fix, noop, review, index']);
    expect(await problems({ ...fix, ticket: { title: 't', description: null } })).toEqual(['ticket.description: expected a string']);
  });

  it('takes the ticket by reference instead of typed in, never both and never neither', async () => {
    const { ticket: _ticket, ...withoutTicket } = fix;
    expect(await problems({ ...withoutTicket, ticketRef: 'jira:PROJ-123' })).toEqual([]);
    expect(await problems({ ...fix, ticketRef: 'jira:PROJ-123' })).toEqual(['ticketRef: expected absent when ticket is given: name the ticket by reference or type it in, not both']);
    expect(await problems(withoutTicket)).toEqual(['ticket: expected an object (required for a fix job, unless ticketRef names the ticket)']);
    expect(await problems({ ...withoutTicket, ticketRef: 42 })).toEqual(['ticketRef: expected a string']);
    expect(await problems({ ...withoutTicket, ticketRef: '' })).toEqual(['ticketRef: expected a ticket reference <tracker>:<key>, such as jira:PROJ-123']);
    expect(await problems({ kind: 'noop', ticketRef: 'jira:PROJ-123' })).toEqual(['ticketRef: expected absent: a noop job has no ticketRef']);
  });

  it('refuses repository and ticket fields on a noop job', async () => {
    expect(await problems({ kind: 'noop', repoAlias: 'demo', ticket: {} })).toEqual([
      'repoAlias: expected absent: a noop job has no repoAlias',
      'ticket: expected absent: a noop job has no ticket',
    ]);
  });
});

describe('CreateJobDto: review and index jobs', () => {
  it('accepts a review of a merge request by number or by branch, and an index of a ref', async () => {
    expect(await problems({ kind: 'review', repoAlias: 'demo', mergeRequest: 42 })).toEqual([]);
    expect(await problems({ kind: 'review', repoAlias: 'demo', mergeRequest: 2 ** 31 - 1 })).toEqual([]);
    expect(await problems({ kind: 'review', repoAlias: 'demo', branch: 'feature/login' })).toEqual([]);
    expect(await problems({ kind: 'index', repoAlias: 'demo', ref: 'release/1.2' })).toEqual([]);
  });

  it('asks a review for exactly one of mergeRequest and branch', async () => {
    expect(await problems({ kind: 'review', repoAlias: 'demo' })).toEqual(['mergeRequest: expected an integer (required for a review job, unless branch names its merge request)']);
    expect(await problems({ kind: 'review', repoAlias: 'demo', mergeRequest: 42, branch: 'main' })).toEqual([
      'branch: expected absent when mergeRequest is given: name the merge request by number or by branch, not both',
    ]);
  });

  it('names the field and what it expects', async () => {
    for (const mergeRequest of [0, -1, 2 ** 31, 1.5, '42', true, null]) {
      expect(await problems({ kind: 'review', repoAlias: 'demo', mergeRequest })).toEqual([
        mergeRequest === null ? 'mergeRequest: expected an integer (required for a review job, unless branch names its merge request)' : 'mergeRequest: expected an integer in 1..2147483647',
      ]);
    }
    expect(await problems({ kind: 'review', repoAlias: 'demo', branch: 'a..b' })).toEqual(['branch: expected a git ref name of at most 200 characters']);
    expect(await problems({ kind: 'review', repoAlias: 'demo', branch: 7 })).toEqual(['branch: expected a string']);
    expect(await problems({ kind: 'review', mergeRequest: 1 })).toEqual(['repoAlias: expected a string (required for a review job)']);
    expect(await problems({ kind: 'index', repoAlias: 'demo' })).toEqual(['ref: expected a string (required for an index job)']);
    expect(await problems({ kind: 'index', ref: 'main' })).toEqual(['repoAlias: expected a string (required for an index job)']);
    expect(await problems({ kind: 'index', repoAlias: 'demo', ref: 'b'.repeat(201) })).toEqual(['ref: expected a git ref name of at most 200 characters']);
  });

  it("refuses the fields of other kinds: a fix's ticket on a review, a review's target on an index or a fix", async () => {
    expect(await problems({ kind: 'review', repoAlias: 'demo', mergeRequest: 1, baseRef: 'main', ticket: { title: 'x' }, ticketRef: 'jira:A-1', ref: 'main' })).toEqual([
      'baseRef: expected absent: a review job has no baseRef',
      'ticket: expected absent: a review job has no ticket',
      'ticketRef: expected absent: a review job has no ticketRef',
      'ref: expected absent: a review job has no ref',
    ]);
    expect(await problems({ kind: 'index', repoAlias: 'demo', ref: 'main', baseRef: 'main', mergeRequest: 1 })).toEqual([
      'baseRef: expected absent: an index job has no baseRef',
      'mergeRequest: expected absent: an index job has no mergeRequest',
    ]);
    expect(await problems({ ...fix, branch: 'main', ref: 'main' })).toEqual(['branch: expected absent: a fix job has no branch', 'ref: expected absent: a fix job has no ref']);
    expect(await problems({ kind: 'noop', mergeRequest: 1 })).toEqual(['mergeRequest: expected absent: a noop job has no mergeRequest']);
  });
});
