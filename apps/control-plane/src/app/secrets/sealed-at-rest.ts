import { SealedSecretError, type SecretSealer, isSealedValue, sealedHeader } from '@airlock/sealed-secrets';
import { SecretsAtRestError } from './secrets-at-rest.error';

/** A stored secret as a repository gives it: which row, and the column's text. */
export interface StoredSecret {
  readonly id: string;
  readonly stored: string;
}

/** What bringing stored secrets in line did: counts only. */
export interface SealAtRestReport {
  readonly sealed: number;
  readonly rewrapped: number;
  readonly alreadyCurrent: number;
}

/**
 * Brings every stored secret in line with the configured KEKs, row by row, and returns what
 * each now opens to:
 * - with a sealer, a value still in plain text is sealed, one under a previous KEK is
 *   rewrapped under the active one (the data key only), and each write is a compare-and-set
 *   (`replace` says whether it won), so replicas booting together are safe and the step is
 *   idempotent: a loser's row holds another replica's equally good value;
 * - without one, plain text is kept as it is and a sealed value is an error naming the KEK
 *   that sealed it and the variable to set, rather than a key nobody can use.
 */
export async function sealAtRest(
  rows: readonly StoredSecret[],
  sealer: SecretSealer | null,
  purposeOf: (id: string) => string,
  replace: (id: string, expected: string, next: string) => Promise<boolean>,
): Promise<{ readonly plaintext: ReadonlyMap<string, string>; readonly report: SealAtRestReport }> {
  const plaintext = new Map<string, string>();
  const report = { sealed: 0, rewrapped: 0, alreadyCurrent: 0 };
  for (const row of rows) {
    const purpose = purposeOf(row.id);
    if (!isSealedValue(row.stored)) {
      plaintext.set(row.id, row.stored);
      if (!sealer) continue;
      if (await replace(row.id, row.stored, await sealer.seal(purpose, row.stored))) report.sealed += 1;
      continue;
    }
    if (!sealer) {
      throw new SecretsAtRestError(
        `${purpose} is sealed under the key-encryption key ${sealedHeader(row.stored).kekId}, but no KEK is configured: set AIRLOCK_KEK_FILE to that key's file`,
      );
    }
    try {
      plaintext.set(row.id, await sealer.unsealText(purpose, row.stored));
    } catch (error) {
      // Which row, then what is wrong with it (an unknown KEK, an altered value): never the value.
      if (error instanceof SealedSecretError) throw new SecretsAtRestError(`${purpose}: ${error.message}`);
      throw error;
    }
    if (!sealer.needsRewrap(row.stored)) {
      report.alreadyCurrent += 1;
      continue;
    }
    if (await replace(row.id, row.stored, await sealer.rewrap(purpose, row.stored))) report.rewrapped += 1;
  }
  return { plaintext, report };
}
