import { basename, join } from 'node:path';
import { type AuditTrailVerdict, type ReportedHeadsCheck, verifyEgressAuditTrail } from '../audit/egress-audit.verifier';
import { LedgerExportInvalidError, readLedgerExport, type LedgerExport } from '../audit/ledger-export';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { WorkerIdentityStore } from '../identity/worker-identity.store';
import { CliExitError, EXIT_CODES } from './exit-codes';

/** The egress audit log's (active) file name inside the state directory. */
export const EGRESS_AUDIT_FILE = 'egress-audit.jsonl';

/**
 * Verifies the egress audit log's hash chain across its segments and active file. Prints
 * `PASS` with the frame count, or `FAIL` with the file and line of the first break; then a
 * `NOTE` line for each thing an operator should know that does not break the chain (older
 * segments removed by retention, torn tails moved aside). With `against`, an export of the
 * heads the control plane received (GET /api/v1/workers/{id}/ledger-heads), it also proves
 * the log was neither cut back nor rewritten after each head was reported.
 */
export function auditVerifyCommand(options: { readonly config: string; readonly against?: string }, print: (text: string) => void): number {
  const config = loadWorkerConfig(options.config);
  const file = join(config.stateDir, EGRESS_AUDIT_FILE);
  const reported = options.against === undefined ? undefined : exportOfThisWorker(options.against, config.stateDir);
  const verdict = verifyEgressAuditTrail(file, undefined, reported?.heads);
  print(`${describeVerdict(file, verdict).join('\n')}\n`);
  return verdict.ok ? EXIT_CODES.ok : EXIT_CODES.failed;
}

/** The export, refused unless it is well formed and of this worker. */
function exportOfThisWorker(path: string, stateDir: string): LedgerExport {
  let ledger: LedgerExport;
  try {
    ledger = readLedgerExport(path);
  } catch (error) {
    if (error instanceof LedgerExportInvalidError) throw new CliExitError(EXIT_CODES.configInvalid, `--against ${error.message}`);
    throw error;
  }
  const { workerId } = new WorkerIdentityStore(stateDir).load();
  if (ledger.workerId !== workerId) throw new CliExitError(EXIT_CODES.configInvalid, `--against ${path}: the export is of worker ${ledger.workerId}; this worker is ${workerId}`);
  return ledger;
}

/** The lines `audit verify` prints for a verdict: PASS or FAIL first, then notes. */
export function describeVerdict(file: string, verdict: AuditTrailVerdict): string[] {
  const lines: string[] = [];
  const where = verdict.files.length > 1 ? `seq ${verdict.firstSeq}..${verdict.lastSeq} across ${verdict.files.length} files, ${basename(verdict.files[0] ?? '')} to ${basename(verdict.files[verdict.files.length - 1] ?? '')}, in ${join(file, '..')}` : file;
  if (verdict.broken === undefined) {
    lines.push(`${verdict.ok ? 'PASS' : 'FAIL'} egress audit log: ${verdict.frames} frames, hash chain intact (${where})`);
  } else {
    const { broken } = verdict;
    lines.push(`FAIL egress audit log: hash chain broken at line ${broken.line} of ${broken.file} (${broken.reason}); ${verdict.frames} frames verified before it`);
  }
  if (verdict.reportedHeads !== undefined) lines.push(...describeReportedHeads(verdict.reportedHeads));
  if (verdict.anchoredAtSeq !== undefined) {
    lines.push(`NOTE segments before seq ${verdict.anchoredAtSeq} removed by retention; chain verified from seq ${verdict.anchoredAtSeq} (anchored on that line's prevHash)`);
  }
  if (verdict.unterminatedTail !== undefined) {
    const { file: tailFile, bytes } = verdict.unterminatedTail;
    lines.push(`NOTE ${tailFile} ends in an unterminated line of ${bytes} bytes: an append cut short by a crash or power loss, whose frame was never sent; not part of the chain (the worker moves it aside when it next starts)`);
  }
  for (const tail of verdict.quarantined) {
    lines.push(`NOTE quarantined torn tail: ${tail.file} (${tail.bytes} bytes): an append cut short by a crash or power loss, whose frame was never sent; moved aside, not part of the chain`);
  }
  return lines;
}

/** The lines for the heads the control plane received: what matched, and each one that shows the log was cut back or rewritten. */
function describeReportedHeads(heads: ReportedHeadsCheck): string[] {
  const lines = [`${heads.rewritten.length + heads.beyondEnd.length === 0 ? 'PASS' : 'FAIL'} reported heads: ${heads.matching} of ${heads.reported} match the log`];
  for (const seq of heads.rewritten) lines.push(`FAIL reported head seq ${seq}: the log's line ${seq} has another hash: it, or a line before it, was rewritten after the head was reported`);
  for (const seq of heads.beyondEnd) lines.push(`FAIL reported head seq ${seq}: the log ends before it: lines were removed after the head was reported`);
  if (heads.beforeRetention > 0) lines.push(`NOTE ${heads.beforeRetention} reported heads are older than the oldest line kept (removed by retention): not checkable`);
  if (heads.afterBreak > 0) lines.push(`NOTE ${heads.afterBreak} reported heads are after the break in the chain: not checked`);
  return lines;
}
