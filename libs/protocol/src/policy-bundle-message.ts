const POLICY_BUNDLE_CONTEXT = Buffer.from('airlock.v1.policy-bundle', 'utf8');
const SEPARATOR = Buffer.from([0]);

/**
 * The exact bytes a control-plane key signs for a policy bundle (see `SignedPolicyBundle`
 * in the proto): a context string, a zero byte, then the payload bytes. An instruction is
 * signed over its bare payload, which starts with the tag of its job id, never with this
 * context; so a key's signature over an instruction never verifies as one over a bundle,
 * nor a bundle's as one over an instruction.
 */
export function policyBundleSignedMessage(payload: Uint8Array): Buffer {
  return Buffer.concat([POLICY_BUNDLE_CONTEXT, SEPARATOR, Buffer.from(payload)]);
}
