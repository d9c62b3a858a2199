/**
 * Hard size bounds on the wire. Both sides configure gRPC with them and both sides
 * validate fields against them, so neither trusts the other to stay small.
 */
export const WIRE_LIMITS = {
  /** Largest frame the control plane sends to a worker (an instruction with its ticket). */
  maxDownstreamMessageBytes: 256 * 1024,
  /** Largest frame a worker sends upstream. Results are metadata only, so this is small. */
  maxUpstreamMessageBytes: 16 * 1024,
  maxInstructionPayloadBytes: 64 * 1024,
  maxTicketTitleChars: 200,
  maxTicketDescriptionBytes: 16 * 1024,
  maxBaseRefChars: 200,
  maxCapacity: 64,
  maxRunningAttempts: 64,
  maxPhaseDurations: 16,
  maxCredits: 64,
  /** Heartbeat sequence numbers restart on each stream; 2^31 heartbeats is decades at any allowed interval. */
  maxHeartbeatSeq: 2 ** 31 - 1,
  challengeNonceBytes: 32,
  instructionNonceBytes: 16,
  ed25519PublicKeyBytes: 32,
  ed25519SignatureBytes: 64,
  macBytes: 32,
  sha256Bytes: 32,
} as const;

/** Identifier shapes: every string that crosses upstream must match one of these. */
export const ID_PATTERNS = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  repoAlias: /^[a-z0-9][a-z0-9._-]{0,62}$/,
  signingKeyId: /^sk_[0-9a-f]{16}$/,
  enrollmentToken: /^aet_[A-Za-z0-9_-]{43}$/,
  semver: /^\d{1,4}\.\d{1,4}\.\d{1,4}(?:-[0-9A-Za-z.-]{1,16})?$/,
  // A conservative subset of git's ref-name rules: no "..", no leading "-" or "/",
  // no control characters, spaces or the characters git forbids.
  gitRef: /^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]{1,200}(?<![./])$/,
} as const;
