/**
 * Hard size bounds on the wire. Both sides configure gRPC with them and both sides
 * validate fields against them, so neither trusts the other to stay small.
 */
export const WIRE_LIMITS = {
  /**
   * Largest frame the control plane sends to a worker. The largest is a policy bundle: its
   * payload (at most maxPolicyBundlePayloadBytes) plus a 64-byte signature, a key id and a few
   * bytes of protobuf framing, so 64 KiB of headroom over the payload bound is ample.
   */
  maxDownstreamMessageBytes: 256 * 1024,
  /** Largest frame a worker sends upstream. Results are metadata only, so this is small. */
  maxUpstreamMessageBytes: 16 * 1024,
  maxInstructionPayloadBytes: 64 * 1024,
  /** A signed policy bundle's payload: its layers_json plus two UUIDs, a revision and two times. */
  maxPolicyBundlePayloadBytes: 192 * 1024,
  /** The bundle's layers as UTF-8 JSON (up to 256 layers of policy documents). */
  maxPolicyLayersJsonBytes: 160 * 1024,
  /** Policy revisions count publishes of one tenant's policy; uint32 on the wire, kept to int32 range. */
  maxPolicyRevision: 2 ** 31 - 1,
  /** Pools one worker belongs to (Hello.labels). */
  maxWorkerLabels: 16,
  /** Rules a PolicyAck may say the local policy keeps stricter (there are 16 rules today). */
  maxNarrowedRules: 32,
  /** Rules an InstructionRejected may name as the ones that refused the task. */
  maxRejectionRules: 4,
  /**
   * Inference endpoints one worker may configure, hence entries in one JobResult's
   * model_usage (an endpoint at most once) and the bound on their endpoint_index.
   */
  maxInferenceEndpoints: 16,
  /** Decisions in one JobResult's PolicyReport. */
  maxPolicyDecisions: 48,
  maxTicketTitleChars: 200,
  /** Re-runs one chain of jobs may have: the control plane refuses a re-run past it. */
  maxDeliveryGeneration: 1000,
  /** The largest merge request number a review task may name (a forge's 32-bit signed id). */
  maxMergeRequestNumber: 2 ** 31 - 1,
  /** Review comments one result may count, per severity. */
  maxReviewComments: 10_000,
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
  /** A worker's pool label (Hello.labels): the same shape as a repository alias. */
  workerLabel: /^[a-z0-9][a-z0-9._-]{0,62}$/,
  /** An inference endpoint's name in the worker's config (JobResult.model_usage.endpoint). */
  inferenceEndpointName: /^[A-Za-z0-9._-]{1,64}$/,
  /**
   * A model name as the worker's config gives it to its server (JobResult.model_usage.model):
   * Hugging Face ids (Qwen/Qwen2.5-Coder-7B-Instruct), Ollama tags (qwen2.5-coder:7b) and
   * vLLM's served paths fit; whitespace, control characters and quotes do not.
   */
  modelName: /^[A-Za-z0-9._:/@+-]{1,200}$/,
  signingKeyId: /^sk_[0-9a-f]{16}$/,
  enrollmentToken: /^aet_[A-Za-z0-9_-]{43}$/,
  semver: /^\d{1,4}\.\d{1,4}\.\d{1,4}(?:-[0-9A-Za-z.-]{1,16})?$/,
  // A conservative subset of git's ref-name rules: no "..", no leading "-" or "/",
  // no control characters, spaces or the characters git forbids.
  gitRef: /^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]{1,200}(?<![./])$/,
  /**
   * A ticket named by reference (FixTask.ticket_ref, flowing down only): a tracker's name in
   * the worker's catalog, a colon, and the ticket's key there (PROJ-123, 42, group/app#42).
   */
  ticketRef: /^[a-z0-9][a-z0-9._-]{0,62}:[A-Za-z0-9][A-Za-z0-9._#/-]{0,127}$/,
} as const;
