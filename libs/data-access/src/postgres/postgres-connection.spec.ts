import { formatPostgresUrl, parsePostgresUrl } from './postgres-connection';

describe('parsePostgresUrl', () => {
  it('splits a URL into separate fields and back', () => {
    const fields = parsePostgresUrl('postgresql://air%40lock:p%2Fw@127.0.0.1:6543/control_plane');
    expect(fields).toEqual({ host: '127.0.0.1', port: 6543, user: 'air@lock', password: 'p/w', database: 'control_plane' });
    expect(parsePostgresUrl(formatPostgresUrl(fields))).toEqual(fields);
  });

  it('rejects other schemes and a missing database without echoing the URL', () => {
    expect(() => parsePostgresUrl('mysql://u:secret@h/db')).toThrow('DATABASE_URL: expected the postgresql:// scheme');
    expect(() => parsePostgresUrl('postgresql://u:secret@h/')).toThrow('DATABASE_URL: expected a database name in the path');
  });
});
