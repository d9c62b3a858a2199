import { LocalKeyEncryptionKeys, SecretSealer, ensureKekFile } from '@airlock/sealed-secrets';
import type { SecretsAtRestConfig } from '../config/app-config';

/** Nest injection token of the control plane's SecretSealer, or null when secrets are stored unsealed. */
export const SECRET_SEALER = Symbol('SECRET_SEALER');

/** The sealer of the configured KEKs, and whether this start created the embedded default's KEK file. */
export interface OpenedSecretSealer {
  readonly sealer: SecretSealer | null;
  readonly createdKekFile: boolean;
}

/**
 * Opens the sealer AIRLOCK_KEK_FILE configures, or for the embedded default the one of the KEK
 * file in the data directory, generating it on the first start; null for an external database
 * without a KEK (config says `unsealed`).
 */
export function openSecretSealer(config: SecretsAtRestConfig): OpenedSecretSealer {
  switch (config.kind) {
    case 'kek-files':
      return { sealer: new SecretSealer(config.keys), createdKekFile: false };
    case 'generated-kek': {
      const { key, created } = ensureKekFile(config.file);
      return { sealer: new SecretSealer(new LocalKeyEncryptionKeys(key)), createdKekFile: created };
    }
    case 'unsealed':
      return { sealer: null, createdKekFile: false };
  }
}
