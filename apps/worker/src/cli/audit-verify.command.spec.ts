import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressAuditLog } from '../audit/egress-audit.log';
import { EXIT_CODES } from './exit-codes';
import { runWorkerCli } from './worker.cli';

describe('airlock-worker audit verify', () => {
  let directory: string;
  let stateDir: string;
  let configFile: string;
  let auditFile: string;
  const frames = (count: number, options: { maxSegmentBytes?: number; maxSegments?: number; now?: () => number } = {}) => {
    const log = EgressAuditLog.open(auditFile, { maxSegmentBytes: 1000, maxSegments: 100, ...options });
    for (let i = 1; i <= count; i += 1) log.append('credit', { frame: 'credit', credit: { credits: i } });
    log.close();
  };
  const verify = async (): Promise<{ exitCode: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const exitCode = await runWorkerCli(['node', 'airlock-worker', 'audit', 'verify', '--config', configFile], { out: (text) => (out += text), err: (text) => (err += text) });
    return { exitCode, out, err };
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-audit-cli-'));
    stateDir = join(directory, 'state');
    mkdirSync(stateDir);
    auditFile = join(stateDir, 'egress-audit.jsonl');
    configFile = join(directory, 'worker.yml');
    writeFileSync(
      configFile,
      ['controlPlane: { address: 127.0.0.1:7443, insecure: true }', 'stateDir: ./state', 'workspaceDir: ./workspace', 'inference:', '  endpoints:', '    - { name: local, baseUrl: http://127.0.0.1:8000/v1, model: m }', ''].join('\n'),
    );
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('passes a single-file log, naming it', async () => {
    frames(3, { maxSegmentBytes: 1024 * 1024 });
    expect(await verify()).toEqual({ exitCode: EXIT_CODES.ok, out: `PASS egress audit log: 3 frames, hash chain intact (${auditFile})\n`, err: '' });
  });

  it('passes a rotated log across its segments', async () => {
    frames(30);
    const { exitCode, out } = await verify();
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(out).toMatch(new RegExp(`^PASS egress audit log: 30 frames, hash chain intact \\(seq 1\\.\\.30 across \\d+ files, egress-audit\\.000001\\.jsonl to egress-audit\\.jsonl, in ${stateDir}\\)\\n$`));
  });

  it('passes after retention, saying plainly where the chain is verified from', async () => {
    frames(40, { maxSegments: 2 });
    const firstRetained = JSON.parse(readFileSync(join(stateDir, 'egress-audit.jsonl'), 'utf8').split('\n')[0] as string) as { seq: number };
    const { exitCode, out } = await verify();
    expect(exitCode).toBe(EXIT_CODES.ok);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PASS egress audit log: \d+ frames, hash chain intact \(seq (\d+)\.\.40 across 3 files/);
    const anchor = Number(/seq (\d+)\.\./.exec(lines[0] as string)?.[1]);
    expect(anchor).toBeGreaterThan(1);
    expect(anchor).toBeLessThan(firstRetained.seq);
    expect(lines[1]).toBe(`NOTE segments before seq ${anchor} removed by retention; chain verified from seq ${anchor} (anchored on that line's prevHash)`);
    expect(lines).toHaveLength(2);
  });

  it('passes after a torn tail was quarantined, naming the quarantined file and its size', async () => {
    frames(2, { maxSegmentBytes: 1024 * 1024 });
    appendFileSync(auditFile, '{"seq":3,"time":"20');
    frames(1, { maxSegmentBytes: 1024 * 1024, now: () => 1_700_000_000_000 });
    const quarantined = join(stateDir, 'egress-audit.torn-seq3-1700000000000.part');
    expect(await verify()).toEqual({
      exitCode: EXIT_CODES.ok,
      out:
        `PASS egress audit log: 3 frames, hash chain intact (${auditFile})\n` +
        `NOTE quarantined torn tail: ${quarantined} (19 bytes): an append cut short by a crash or power loss, whose frame was never sent; moved aside, not part of the chain\n`,
      err: '',
    });
  });

  it('passes with a note while a torn tail has not been moved aside yet', async () => {
    frames(2, { maxSegmentBytes: 1024 * 1024 });
    appendFileSync(auditFile, '{"seq":3');
    const { exitCode, out } = await verify();
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(out.split('\n')[1]).toBe(
      `NOTE ${auditFile} ends in an unterminated line of 8 bytes: an append cut short by a crash or power loss, whose frame was never sent; not part of the chain (the worker moves it aside when it next starts)`,
    );
  });

  it('fails naming the segment and line of the first break', async () => {
    frames(30);
    const segment = join(stateDir, 'egress-audit.000002.jsonl');
    const lines = readFileSync(segment, 'utf8').split('\n');
    lines[0] = (lines[0] as string).replace(/"credits":\d+/, '"credits":63');
    writeFileSync(segment, lines.join('\n'));
    const { exitCode, out } = await verify();
    expect(exitCode).toBe(EXIT_CODES.failed);
    expect(out).toMatch(new RegExp(`^FAIL egress audit log: hash chain broken at line 1 of ${segment} \\(hash does not match the line's content\\); \\d+ frames verified before it\\n$`));
  });

});
