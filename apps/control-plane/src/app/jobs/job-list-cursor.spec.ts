import { decodeJobListCursor, encodeJobListCursor, MAX_CURSOR_CHARS } from './job-list-cursor';

const position = { createdAt: new Date('2026-12-01T09:30:00.123Z'), id: '6a1f1b8e-6c2b-4f59-9d1a-2f4b7c9e0a11' };

describe('job list cursor', () => {
  it('names the same position after a round trip, in few enough characters', () => {
    const cursor = encodeJobListCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor.length).toBeLessThan(MAX_CURSOR_CHARS);
    expect(decodeJobListCursor(cursor)).toEqual(position);
  });

  it('refuses anything it did not write', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      '',
      'not a cursor',
      'x'.repeat(MAX_CURSOR_CHARS + 1),
      Buffer.from('{').toString('base64url'),
      encode(null),
      encode({ t: '2026-12-01T09:30:00Z', id: position.id }), // not the form toISOString writes
      encode({ t: position.createdAt.toISOString(), id: 'not-a-uuid' }),
      encode({ t: 'soon', id: position.id }),
    ]) {
      expect(decodeJobListCursor(cursor)).toBeNull();
    }
  });
});
