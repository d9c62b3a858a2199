import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressAuditLog } from './egress-audit.log';
import { verifyEgressAuditTrail } from './egress-audit.verifier';

describe('verifyEgressAuditTrail', () => {
  let directory: string;
  let path: string;
  const segment = (n: number) => join(directory, `egress-audit.${String(n).padStart(6, '0')}.jsonl`);
  const write = (frames: number, options: { maxSegments?: number } = {}) => {
    const log = EgressAuditLog.open(path, { maxSegmentBytes: 1000, maxSegments: options.maxSegments ?? 100 });
    for (let i = 1; i <= frames; i += 1) log.append('credit', { frame: 'credit', credit: { credits: i } });
    log.close();
  };
  const segmentCount = () => readdirSync(directory).filter((name) => /^egress-audit\.\d{6}\.jsonl$/.test(name)).length;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-audit-verify-'));
    path = join(directory, 'egress-audit.jsonl');
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('treats a missing log, or a missing directory, as empty and valid', () => {
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 0, files: [] });
    expect(verifyEgressAuditTrail(join(directory, 'absent', 'egress-audit.jsonl'))).toMatchObject({ ok: true, frames: 0 });
  });

  it('verifies every segment and the active file in order as one chain', () => {
    write(30);
    const segments = segmentCount();
    expect(segments).toBeGreaterThanOrEqual(3);
    expect(verifyEgressAuditTrail(path)).toEqual({
      ok: true,
      frames: 30,
      files: [...Array.from({ length: segments }, (_, index) => segment(index + 1)), path],
      firstSeq: 1,
      lastSeq: 30,
      anchoredAtSeq: undefined,
      unterminatedTail: undefined,
      quarantined: [],
      broken: undefined,
    });
  });

  it('anchors on the first retained line when retention removed the oldest segments', () => {
    write(40, { maxSegments: 2 });
    const verdict = verifyEgressAuditTrail(path);
    expect(verdict.ok).toBe(true);
    expect(verdict.anchoredAtSeq).toBeGreaterThan(1);
    expect(verdict.firstSeq).toBe(verdict.anchoredAtSeq);
    expect(verdict.frames).toBe(40 - (verdict.anchoredAtSeq as number) + 1);
  });

  it('names the file and line of a tampered line in a middle segment', () => {
    write(30);
    const lines = readFileSync(segment(2), 'utf8').split('\n');
    lines[1] = (lines[1] as string).replace(/"credits":\d+/, '"credits":64');
    writeFileSync(segment(2), lines.join('\n'));
    const verdict = verifyEgressAuditTrail(path);
    expect(verdict.ok).toBe(false);
    expect(verdict.broken).toEqual({ file: segment(2), line: 2, reason: "hash does not match the line's content" });
  });

  it('finds a missing middle segment at the first line of the segment after it', () => {
    write(30);
    rmSync(segment(2));
    const verdict = verifyEgressAuditTrail(path);
    expect(verdict.broken).toEqual({ file: segment(3), line: 1, reason: expect.stringMatching(/^seq \d+ where \d+ was expected, across from egress-audit\.000001\.jsonl$/) as unknown });
  });

  it('refuses a closed segment that does not end with a newline', () => {
    write(30);
    appendFileSync(segment(1), '{"seq":');
    expect(verifyEgressAuditTrail(path).broken).toMatchObject({ file: segment(1), reason: 'a closed segment ending without a newline' });
  });

  it('passes with a note for an unterminated tail the worker has not moved aside yet, and does not count it', () => {
    write(2);
    appendFileSync(path, '{"seq":3,"ti');
    expect(verifyEgressAuditTrail(path)).toMatchObject({ ok: true, frames: 2, unterminatedTail: { file: path, bytes: 12 } });
  });

  it('fails a log whose first line is seq 1 but does not chain from the genesis hash', () => {
    write(1);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/"prevHash":"0{64}"/, `"prevHash":"${'1'.repeat(64)}"`));
    expect(verifyEgressAuditTrail(path).broken).toEqual({ file: path, line: 1, reason: 'the first line (seq 1) does not chain from the genesis hash' });
  });
});
