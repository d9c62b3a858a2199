import { newJobRequest, type NewJobChoices, type NewJobFields } from './new-job-request';

const fields: NewJobFields = {
  repoAlias: ' billing ',
  baseRef: 'main ',
  'ticket.title': 'Fix it',
  'ticket.description': 'details',
  ticketRef: ' jira:PROJ-7 ',
  mergeRequest: ' 42 ',
  branch: ' feature/login ',
  ref: ' release/2.0 ',
  pool: '',
  priority: '',
};
const typedByNumber: NewJobChoices = { ticketSource: 'typed', reviewTarget: 'mergeRequest' };
const referenceByBranch: NewJobChoices = { ticketSource: 'reference', reviewTarget: 'branch' };

describe('newJobRequest', () => {
  it("sends a fix's typed ticket, or the reference alone, never both", () => {
    expect(newJobRequest('fix', fields, typedByNumber)).toEqual({ kind: 'fix', repoAlias: 'billing', baseRef: 'main', ticket: { title: 'Fix it', description: 'details' } });
    expect(newJobRequest('fix', fields, referenceByBranch)).toEqual({ kind: 'fix', repoAlias: 'billing', baseRef: 'main', ticketRef: 'jira:PROJ-7' });
  });

  it("sends a review's merge request number, or its branch, never both, and nothing of a fix", () => {
    expect(newJobRequest('review', fields, typedByNumber)).toEqual({ kind: 'review', repoAlias: 'billing', mergeRequest: 42 });
    expect(newJobRequest('review', fields, referenceByBranch)).toEqual({ kind: 'review', repoAlias: 'billing', branch: 'feature/login' });
  });

  it("sends a number the API refuses as it reads, for the API's 400 to name mergeRequest", () => {
    expect(newJobRequest('review', { ...fields, mergeRequest: '' }, typedByNumber)).toMatchObject({ mergeRequest: 0 });
    expect(newJobRequest('review', { ...fields, mergeRequest: '1.5' }, typedByNumber)).toMatchObject({ mergeRequest: 1.5 });
  });

  it("sends an index job's ref alone", () => {
    expect(newJobRequest('index', fields, typedByNumber)).toEqual({ kind: 'index', repoAlias: 'billing', ref: 'release/2.0' });
  });

  it('sends a pool and a priority only when given, for any kind', () => {
    expect(newJobRequest('index', { ...fields, pool: ' gpu ', priority: ' 9 ' }, typedByNumber)).toEqual({ kind: 'index', repoAlias: 'billing', ref: 'release/2.0', pool: 'gpu', priority: 9 });
    expect(newJobRequest('review', { ...fields, pool: '  ', priority: '' }, typedByNumber)).not.toHaveProperty('pool');
    expect(newJobRequest('fix', { ...fields, priority: '1.5' }, typedByNumber)).toMatchObject({ priority: 1.5 });
  });
});
