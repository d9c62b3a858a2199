/**
 * Raised at start when the persisted policy bundle cannot be read back or no longer
 * verifies with the pinned keys (a key unpinned from the config, a file edited or
 * damaged). The worker refuses to start rather than fall back silently to a weaker policy;
 * the operator decides (restore the key, or remove the file to run on local policy alone
 * until the control plane sends the bundle again).
 */
export class PolicyBundleFileInvalidError extends Error {
  override readonly name = 'PolicyBundleFileInvalidError';
  readonly code = 'POLICY_BUNDLE_FILE_INVALID';

  constructor(
    readonly filePath: string,
    readonly problem: string,
  ) {
    super(`the central policy bundle in ${filePath} cannot be kept in force: ${problem}. Restore the signing key it was verified with in controlPlane.trustedSigningKeys, or remove the file to run on local policy alone until the control plane sends the bundle again`);
  }
}
