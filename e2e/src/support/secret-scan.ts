import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A secret by name (what a failure says) and the forms it could take in a log: raw, hex, base64… */
export interface NamedSecret {
  readonly name: string;
  readonly forms: readonly string[];
}

/** Where a secret was found: the secret's name, the log file and the line number, never the line. */
export interface SecretHit {
  readonly secret: string;
  readonly file: string;
  readonly line: number;
}

/** Shorter than this, a "secret" would match by chance and a clean scan would prove nothing. */
const MIN_SECRET_LENGTH = 16;

/**
 * Scans every line of every file in `logDir` (all processes' logs, subfolders included) for
 * every form of every secret, case-insensitively, and returns each hit without quoting it: a
 * failing test must not print the secret it caught. Throws when there is nothing to scan or
 * a secret is too short to mean anything.
 */
export function findSecretsInLogs(logDir: string, secrets: readonly NamedSecret[]): SecretHit[] {
  const files = listFiles(logDir);
  if (files.length === 0) throw new Error(`no log file in ${logDir}; the scan would prove nothing`);
  for (const secret of secrets) {
    if (secret.forms.length === 0) throw new Error(`the secret "${secret.name}" has no form to look for`);
    for (const form of secret.forms) {
      if (form.length < MIN_SECRET_LENGTH) throw new Error(`a form of the secret "${secret.name}" is shorter than ${MIN_SECRET_LENGTH} characters; a scan for it would prove nothing`);
    }
  }
  const hits: SecretHit[] = [];
  for (const file of files) {
    const lines = readFileSync(join(logDir, file), 'utf8').toLowerCase().split('\n');
    lines.forEach((line, index) => {
      for (const secret of secrets) {
        if (secret.forms.some((form) => line.includes(form.toLowerCase()))) hits.push({ secret: secret.name, file, line: index + 1 });
      }
    });
  }
  return hits;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const relative = prefix === '' ? name : join(prefix, name);
    return statSync(join(dir, relative)).isDirectory() ? listFiles(dir, relative) : [relative];
  });
}
