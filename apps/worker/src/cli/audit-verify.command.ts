import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEgressAuditLog } from '../audit/egress-audit.log';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { EXIT_CODES } from './exit-codes';

/** The egress audit log's file name inside the state directory. */
export const EGRESS_AUDIT_FILE = 'egress-audit.jsonl';

/** Verifies the egress audit log's hash chain; prints the count and PASS, or FAIL with the first broken line. */
export function auditVerifyCommand(options: { readonly config: string }, print: (text: string) => void): number {
  const config = loadWorkerConfig(options.config);
  const file = join(config.stateDir, EGRESS_AUDIT_FILE);
  const verdict = verifyEgressAuditLog(existsSync(file) ? readFileSync(file, 'utf8') : undefined);
  if (verdict.ok) {
    print(`PASS egress audit log: ${verdict.count} frames, hash chain intact (${file})\n`);
    return EXIT_CODES.ok;
  }
  print(`FAIL egress audit log: ${verdict.count} lines, hash chain broken at line ${verdict.brokenLine} (${file})\n`);
  return EXIT_CODES.failed;
}
