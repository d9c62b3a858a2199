import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateJobDto } from './create-job.dto';

async function problems(body: object): Promise<string[]> {
  const errors = await validate(plainToInstance(CreateJobDto, body), { whitelist: true, forbidNonWhitelisted: true });
  const flatten = (list: typeof errors, prefix = ''): string[] =>
    list.flatMap((e) => [...Object.values(e.constraints ?? {}).map((m) => `${prefix}${m}`), ...flatten(e.children ?? [], `${prefix}${e.property}.`)]);
  return flatten(errors);
}

const fix = { repoAlias: 'demo', baseRef: 'release/1.2', ticket: { title: 'Fix it', description: 'details' } };

describe('CreateJobDto', () => {
  it('accepts a fix job (the default kind) and a bare noop job', async () => {
    expect(await problems(fix)).toEqual([]);
    expect(await problems({ kind: 'noop' })).toEqual([]);
  });

  it('names the field and what it expects', async () => {
    expect(await problems({ ...fix, repoAlias: '-bad' })).toEqual(['repoAlias must match ^[a-z0-9][a-z0-9._-]{0,62}$']);
    expect(await problems({ ...fix, baseRef: 'a..b' })).toEqual(['baseRef must be a git ref name of at most 200 characters']);
    expect(await problems({ ...fix, kind: 'deploy' })).toEqual(['kind must be one of fix, noop']);
    expect(await problems({ kind: 'fix' })).toEqual(
      expect.arrayContaining(['repoAlias is required for a fix job', 'baseRef is required for a fix job', 'ticket is required for a fix job']),
    );
  });

  it('bounds the ticket: one-line title, description up to 16 KiB of UTF-8', async () => {
    expect(await problems({ ...fix, ticket: { title: 'two\nlines' } })).toEqual(['ticket.title must be one non-blank line']);
    expect(await problems({ ...fix, ticket: { title: 'x'.repeat(201) } })).toEqual([expect.stringMatching(/^ticket.title must be shorter than or equal to 200/)]);
    expect(await problems({ ...fix, ticket: { title: 't', description: 'é'.repeat(8_193) } })).toEqual(['ticket.description must be at most 16384 bytes of UTF-8']);
  });
});
