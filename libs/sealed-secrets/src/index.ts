export { KEK_EXPECTATION, ensureKekFile, fileKeyEncryptionKeys, kekFromEnvironment, parseKek, readKekFile } from './kek-sources';
export { KEK_BYTES, KEK_ID_PATTERN, LocalKeyEncryptionKeys, localKekId, type KeyEncryptionKeys, type WrappedDataKey } from './key-encryption-keys';
export {
  InvalidKekError,
  SealedSecretError,
  SealedValueMalformedError,
  SealedValueTamperedError,
  UnknownKekError,
  WrongPurposeError,
  type SealedSecretErrorCode,
} from './sealed-secret.errors';
export { SEALED_PREFIX, SecretSealer, isSealedValue, sealedHeader, type SealedHeader } from './secret-sealer';
