import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressAuditLog } from '../audit/egress-audit.log';
import { WorkerIdentityStore } from '../identity/worker-identity.store';
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

  describe('--against the heads the control plane received', () => {
    const WORKER_ID = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
    const enroll = (workerId = WORKER_ID) => {
      const store = new WorkerIdentityStore(stateDir);
      store.savePendingPrivateKey('not read by audit verify');
      store.saveIdentity(workerId, '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', null);
    };
    /** The seq and chain hash of each line of the (single-file) log, as a heartbeat reports them. */
    const headsOfLog = () =>
      readFileSync(auditFile, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { seq: number; hash: string })
        .map(({ seq, hash }) => ({ seq, head: hash, receivedAt: '2026-11-30T12:00:00.000Z' }));
    const exportOf = (heads: ReturnType<typeof headsOfLog>, workerId = WORKER_ID) => {
      const file = join(directory, 'ledger-heads.json');
      writeFileSync(file, JSON.stringify({ workerId, latest: heads[heads.length - 1] ?? null, checkpoints: heads.slice(0, -1) }));
      return file;
    };
    const verifyAgainst = async (file: string) => {
      let out = '';
      let err = '';
      const exitCode = await runWorkerCli(['node', 'airlock-worker', 'audit', 'verify', '--config', configFile, '--against', file], { out: (text) => (out += text), err: (text) => (err += text) });
      return { exitCode, out, err };
    };
    const oneFile = { maxSegmentBytes: 1024 * 1024 };

    beforeEach(() => enroll());

    it('passes when the log still holds every reported head', async () => {
      frames(20, oneFile);
      const heads = headsOfLog();
      const file = exportOf([heads[2]!, heads[9]!, heads[19]!]);
      frames(5, oneFile);
      expect(await verifyAgainst(file)).toEqual({
        exitCode: EXIT_CODES.ok,
        out: `PASS egress audit log: 25 frames, hash chain intact (${auditFile})\nPASS reported heads: 3 of 3 match the log\n`,
        err: '',
      });
    });

    it('fails a log cut back after a head was reported, though its own chain is intact', async () => {
      frames(20, oneFile);
      const file = exportOf([headsOfLog()[19]!]);
      const kept = readFileSync(auditFile, 'utf8').split('\n').slice(0, 15);
      writeFileSync(auditFile, `${kept.join('\n')}\n`);
      const { exitCode, out } = await verifyAgainst(file);
      expect(exitCode).toBe(EXIT_CODES.failed);
      expect(out.split('\n').slice(0, 3)).toEqual([
        `FAIL egress audit log: 15 frames, hash chain intact (${auditFile})`,
        'FAIL reported heads: 0 of 1 match the log',
        'FAIL reported head seq 20: the log ends before it: lines were removed after the head was reported',
      ]);
    });

    it('fails a log rewritten after a head was reported, though its own chain is intact', async () => {
      frames(20, oneFile);
      const file = exportOf([headsOfLog()[9]!]);
      rmSync(auditFile);
      const log = EgressAuditLog.open(auditFile, oneFile);
      for (let i = 1; i <= 20; i += 1) log.append('credit', { frame: 'credit', credit: { credits: 64 - i } });
      log.close();
      const { exitCode, out } = await verifyAgainst(file);
      expect(exitCode).toBe(EXIT_CODES.failed);
      expect(out).toContain("FAIL reported head seq 10: the log's line 10 has another hash: it, or a line before it, was rewritten after the head was reported\n");
    });

    it("refuses an export of another worker, or one that is not the control plane's shape, naming what is wrong", async () => {
      frames(3, oneFile);
      const other = '11111111-2222-4333-8444-555555555555';
      expect(await verifyAgainst(exportOf(headsOfLog(), other))).toEqual({
        exitCode: EXIT_CODES.configInvalid,
        out: '',
        err: `--against ${join(directory, 'ledger-heads.json')}: the export is of worker ${other}; this worker is ${WORKER_ID}\n`,
      });
      const malformed = join(directory, 'malformed.json');
      writeFileSync(malformed, JSON.stringify({ workerId: WORKER_ID, latest: { seq: 3, head: 'xyz', receivedAt: '2026-11-30T12:00:00Z' }, checkpoints: [] }));
      const refused = await verifyAgainst(malformed);
      expect(refused.exitCode).toBe(EXIT_CODES.configInvalid);
      expect(refused.err).toBe(`--against ${malformed}: latest.head: a SHA-256 hash in lower-case hex (64 characters)\n`);
      const twice = join(directory, 'twice.json');
      const [first] = headsOfLog();
      writeFileSync(twice, JSON.stringify({ workerId: WORKER_ID, latest: first, checkpoints: [{ ...first, head: 'f'.repeat(64) }] }));
      expect((await verifyAgainst(twice)).err).toBe(`--against ${twice}: seq 1 is listed twice with different hashes\n`);
    });
  });
});
