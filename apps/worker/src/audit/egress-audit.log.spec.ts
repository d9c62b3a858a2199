import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressAuditLog, verifyEgressAuditLog } from './egress-audit.log';

describe('EgressAuditLog', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'airlock-audit-')), 'egress-audit.jsonl');

  it('chains lines across reopen and verifies', () => {
    const path = file();
    const first = EgressAuditLog.open(path, () => 0);
    first.append('credit', { frame: 'credit', credit: { credits: 2 } });
    first.append('hello', { frame: 'hello', hello: { challengeSignature: Buffer.from([0xab, 0xcd]) } });
    first.close();
    const second = EgressAuditLog.open(path, () => 1);
    expect(second.append('heartbeat', { frame: 'heartbeat' })).toBe(3);
    second.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"challengeSignature":"abcd"');
    expect(verifyEgressAuditLog(text)).toEqual({ ok: true, count: 3 });
  });

  it('reports the first broken line after tampering', () => {
    const path = file();
    const log = EgressAuditLog.open(path);
    for (let i = 1; i <= 4; i += 1) log.append('credit', { frame: 'credit', credit: { credits: i } });
    log.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[2] = (lines[2] as string).replace('"credits":3', '"credits":9');
    writeFileSync(path, lines.join('\n'));
    expect(verifyEgressAuditLog(readFileSync(path, 'utf8'))).toEqual({ ok: false, count: 4, brokenLine: 3 });
  });

  it('detects a deleted line', () => {
    const path = file();
    const log = EgressAuditLog.open(path);
    for (let i = 1; i <= 3; i += 1) log.append('credit', { frame: 'credit', credit: { credits: i } });
    log.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(1, 1);
    expect(verifyEgressAuditLog(lines.join('\n'))).toMatchObject({ ok: false, brokenLine: 2 });
  });

  it('treats a missing file as an empty, valid log', () => {
    expect(verifyEgressAuditLog(undefined)).toEqual({ ok: true, count: 0 });
  });
});
