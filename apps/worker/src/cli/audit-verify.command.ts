import { basename, join } from 'node:path';
import { type AuditTrailVerdict, verifyEgressAuditTrail } from '../audit/egress-audit.verifier';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { EXIT_CODES } from './exit-codes';

/** The egress audit log's (active) file name inside the state directory. */
export const EGRESS_AUDIT_FILE = 'egress-audit.jsonl';

/**
 * Verifies the egress audit log's hash chain across its segments and active file. Prints
 * `PASS` with the frame count, or `FAIL` with the file and line of the first break; then a
 * `NOTE` line for each thing an operator should know that does not break the chain (older
 * segments removed by retention, torn tails moved aside).
 */
export function auditVerifyCommand(options: { readonly config: string }, print: (text: string) => void): number {
  const config = loadWorkerConfig(options.config);
  const file = join(config.stateDir, EGRESS_AUDIT_FILE);
  const verdict = verifyEgressAuditTrail(file);
  print(`${describeVerdict(file, verdict).join('\n')}\n`);
  return verdict.ok ? EXIT_CODES.ok : EXIT_CODES.failed;
}

/** The lines `audit verify` prints for a verdict: PASS or FAIL first, then notes. */
export function describeVerdict(file: string, verdict: AuditTrailVerdict): string[] {
  const lines: string[] = [];
  const where = verdict.files.length > 1 ? `seq ${verdict.firstSeq}..${verdict.lastSeq} across ${verdict.files.length} files, ${basename(verdict.files[0] ?? '')} to ${basename(verdict.files[verdict.files.length - 1] ?? '')}, in ${join(file, '..')}` : file;
  if (verdict.broken === undefined) {
    lines.push(`PASS egress audit log: ${verdict.frames} frames, hash chain intact (${where})`);
  } else {
    const { broken } = verdict;
    lines.push(`FAIL egress audit log: hash chain broken at line ${broken.line} of ${broken.file} (${broken.reason}); ${verdict.frames} frames verified before it`);
  }
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
