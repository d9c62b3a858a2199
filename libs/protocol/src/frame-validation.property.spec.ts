import * as fc from 'fast-check';
import {
  Delivery,
  FailureCode,
  FrameValidationError,
  JobOutcome,
  MergeRequestState,
  MetadataLevel,
  Phase,
  PhaseState,
  PolicyAckStatus,
  PolicyRule,
  ResultDisposition,
  RuleOutcome,
  VersionStatus,
  WireRuleLevel,
  validateControlFrame,
  validateWorkerFrame,
  workerGatewayServiceDefinition,
  type ControlFrame__Output,
  type WorkerFrame__Output,
} from './index';

// Property tests of the gateway's frame decoder (the gRPC loader's deserializers for the
// Connect stream) followed by the frame validators, in both directions. Whatever bytes or
// objects arrive, the decoder either yields a frame or throws one of protobufjs's decode
// errors (grpc-js turns those into status INTERNAL before our code sees anything), and the
// validator either accepts the frame or refuses it with a FrameValidationError: a TypeError,
// a RangeError or a stack overflow here would tear down a stream session instead.

const connect = workerGatewayServiceDefinition()['Connect']!;
const decodeWorkerFrame = (bytes: Buffer) => connect.requestDeserialize(bytes) as WorkerFrame__Output;
const decodeControlFrame = (bytes: Buffer) => connect.responseDeserialize(bytes) as ControlFrame__Output;
const encodeWorkerFrame = (frame: WorkerFrame__Output): Buffer => connect.requestSerialize(frame);
const encodeControlFrame = (frame: ControlFrame__Output): Buffer => connect.responseSerialize(frame);

/** The errors protobufjs's reader raises on bytes that are not a message (reader.js). */
const PROTOBUF_DECODE_ERROR = /^(index out of range|invalid wire type|illegal |invalid varint encoding|maximum nesting depth exceeded)/;

type Outcome = 'accepted' | 'refused' | 'undecodable';

/** Decodes and validates as the receiving side does, failing the property on any other kind of error. */
function receive<Frame>(bytes: Buffer, decode: (bytes: Buffer) => Frame, validate: (frame: Frame) => void): Outcome {
  let frame: Frame;
  try {
    frame = decode(bytes);
  } catch (error) {
    if (error instanceof Error && PROTOBUF_DECODE_ERROR.test(error.message)) return 'undecodable';
    throw error;
  }
  return judge(() => validate(frame));
}

/** Runs a validator: accepted, refused with a well-formed FrameValidationError, or the error propagates. */
function judge(validate: () => void): Exclude<Outcome, 'undecodable'> {
  try {
    validate();
    return 'accepted';
  } catch (error) {
    if (!(error instanceof FrameValidationError)) throw error;
    expect(error.violation.field).toMatch(/\S/);
    expect(error.violation.expected).toMatch(/\S/);
    return 'refused';
  }
}

const JOB_ID = '0b6f6a4e-5d3c-4f0e-9a57-1c2d3e4f5a6b';
const ATTEMPT = { jobId: JOB_ID, attempt: 1 };
const bytes = (length: number, fill = 7) => Buffer.alloc(length, fill);

/** One well-formed frame of every kind a worker sends: the seeds the mutations start from. */
const WORKER_FRAME_SEEDS: readonly WorkerFrame__Output[] = [
  {
    frame: 'hello',
    hello: {
      workerId: JOB_ID,
      challengeSignature: bytes(64),
      workerVersion: '1.4.0',
      capacity: 4,
      running: [ATTEMPT],
      localPolicyDigest: bytes(32),
      labels: ['pool-a', 'gpu'],
      policyRevision: 3,
    },
  },
  { frame: 'credit', credit: { credits: 4 } },
  { frame: 'ack', ack: { attempt: ATTEMPT } },
  { frame: 'rejected', rejected: { attempt: ATTEMPT, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_JOB_KINDS'] } },
  { frame: 'progress', progress: { attempt: ATTEMPT, phase: 'PHASE_TEST', state: 'PHASE_STATE_STARTED' } },
  { frame: 'heartbeat', heartbeat: { running: [ATTEMPT], freeSlots: 3, seq: 9, ledgerSeq: 12, ledgerHead: bytes(32) } },
  {
    frame: 'result',
    result: {
      attempt: ATTEMPT,
      outcome: 'JOB_OUTCOME_FAILED',
      failureCode: 'TESTS_FAILED',
      failedPhase: 'PHASE_TEST',
      phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 1200 }],
      tokens: { requests: 2, promptTokens: 30, completionTokens: 12 },
      change: { filesChanged: 1, linesAdded: 3, linesRemoved: 1, editsProposed: 2, editsApplied: 1 },
      verification: {
        testsRan: true, testExitCode: 1, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: true, reportRead: true,
        testsBefore: 10, failingBefore: 2, testsAfter: 11, failingAfter: 1, testsFixed: 1, testsRegressed: 0, agentTestRuns: 2, reproductionAdded: true,
      },
      contextFiles: 4,
      changeMac: bytes(32),
      deliveryMac: Buffer.alloc(0),
      policy: { revision: 2, shadowRevision: 0, decisions: [{ rule: 'RULE_SECRETS', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_RECORDED' }] },
      metadataLevel: 'METADATA_LEVEL_STANDARD',
      modelUsage: [
        { endpointIndex: 0, endpoint: 'local', model: 'qwen2.5-coder:7b', requests: 1, promptTokens: 20, completionTokens: 8 },
        { endpointIndex: 2, endpoint: 'fallback', model: 'Qwen/Qwen2.5-Coder-7B', requests: 1, promptTokens: 10, completionTokens: 4 },
      ],
      delivery: 'DELIVERY_UNSPECIFIED',
      ticketRefMac: Buffer.alloc(0),
      review: null,
    },
  },
  { frame: 'policyAck', policyAck: { revision: 5, status: 'POLICY_ACK_STATUS_APPLIED', failureCode: 'FAILURE_CODE_UNSPECIFIED', narrowed: ['RULE_SECRETS'] } },
  {
    frame: 'deliveryOutcome',
    deliveryOutcome: {
      deliveryJobId: JOB_ID, state: 'MERGE_REQUEST_STATE_MERGED', humanCommits: 1, reverted: false,
      firstReviewAfterS: 3600, reviewRounds: 2, mergedAfterS: 7200, final: true, metadataLevel: 'METADATA_LEVEL_STANDARD',
    },
  },
];

/** One well-formed frame of every kind the control plane sends. */
const CONTROL_FRAME_SEEDS: readonly ControlFrame__Output[] = [
  { frame: 'challenge', challenge: { nonce: bytes(32) } },
  {
    frame: 'welcome',
    welcome: { heartbeatIntervalMs: 1000, leaseTtlMs: 10_000, versionNotice: { status: 'VERSION_STATUS_DEPRECATED', recommendedVersion: '1.5.0', endOfSupportAtS: 1_790_000_000 } },
  },
  { frame: 'instruction', instruction: { payload: bytes(40), signature: bytes(64), keyId: 'sk_0123456789abcdef' } },
  { frame: 'cancel', cancel: { attempt: ATTEMPT, signature: { keyId: 'sk_0123456789abcdef', signature: Buffer.alloc(64, 1) } } },
  { frame: 'resultAck', resultAck: { attempt: ATTEMPT, disposition: 'RESULT_DISPOSITION_RECORDED', signature: null } },
  { frame: 'drain', drain: { signature: { keyId: 'sk_0123456789abcdef', signature: Buffer.alloc(64, 2) } } },
  { frame: 'leaseRenewal', leaseRenewal: { heartbeatSeq: 9, renewed: [ATTEMPT], signature: null } },
  { frame: 'policyBundle', policyBundle: { payload: bytes(100), signature: bytes(64), keyId: 'sk_0123456789abcdef' } },
];

type Path = ReadonlyArray<string | number>;

/**
 * Every place in a frame a mutation can hit: each leaf, each list and each nested message
 * below the frame's member (the member itself and the oneof name stay). A message inside a
 * list is never replaced whole, since no decoded list holds a null.
 */
function mutablePaths(value: unknown, path: Path = []): Path[] {
  const inList = typeof path[path.length - 1] === 'number';
  const here = path.length > 1 && !(inList && isMessage(value)) ? [path] : [];
  if (!isMessage(value) && !Array.isArray(value)) return here;
  const children = Array.isArray(value) ? value.map((item, index) => mutablePaths(item, [...path, index])) : Object.entries(value).map(([key, child]) => mutablePaths(child, [...path, key]));
  return [...here, ...children.flat()];
}

function isMessage(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !Array.isArray(value);
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

/** A deep copy with the value at `path` replaced (Buffers are copied, never shared). */
function setAt<T>(root: T, path: Path, replacement: unknown): T {
  const copy = (node: unknown, depth: number): unknown => {
    if (depth === path.length) return replacement;
    const key = path[depth]!;
    if (Array.isArray(node)) return node.map((item, index) => (index === key ? copy(item, depth + 1) : item));
    return { ...(node as object), [key]: copy((node as Record<string | number, unknown>)[key], depth + 1) };
  };
  return copy(root, 0) as T;
}

const UINT32_MAX = 0xffff_ffff;

/** The value names of each enum of the contract (no name belongs to two). */
const ENUMS: ReadonlyArray<readonly string[]> = [
  Delivery, FailureCode, JobOutcome, MergeRequestState, MetadataLevel, Phase, PhaseState, PolicyAckStatus,
  PolicyRule, ResultDisposition, RuleOutcome, VersionStatus, WireRuleLevel,
].map((values) => Object.values(values));

/** An enum value this build does not know: protobufjs decodes it as its number (every known value is below 100). */
const unknownEnumNumber = fc.integer({ min: 100, max: 2 ** 31 - 1 });

/**
 * A replacement of the same kind as the decoder could produce there (a number for a number,
 * bytes for bytes…) but otherwise hostile: out of range, huge, an unknown enum value (which
 * protobufjs decodes as its number), a nested message left out.
 */
function hostileReplacement(current: unknown): fc.Arbitrary<unknown> {
  if (typeof current === 'number') {
    return fc.oneof(
      fc.integer({ min: 0, max: UINT32_MAX }),
      fc.constantFrom(0, 1, 2, 63, 64, 65, 99, 100, 255, 256, 3600, 2 ** 31 - 1, 2 ** 31, UINT32_MAX, 2 ** 32, 2 ** 53, -1, -(2 ** 31)),
    );
  }
  if (typeof current === 'boolean') return fc.boolean();
  if (typeof current === 'string') {
    const strings = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('', ' ', `${JOB_ID}\n`, JOB_ID.toUpperCase(), 'sk_0123456789ABCDEF', '1.2.3-' + 'x'.repeat(17), 'RULE_SECRETS', 'PHASE_TEST', 'FAILURE_CODE_UNSPECIFIED'),
      fc.nat({ max: 200_000 }).map((length) => 'a'.repeat(length)),
    );
    // Decoding yields one of the field's own names, or the number of a value it does not know; never another string.
    const ownEnum = ENUMS.find((names) => names.includes(current));
    return ownEnum ? fc.oneof(fc.constantFrom(...ownEnum), unknownEnumNumber) : strings;
  }
  if (Buffer.isBuffer(current)) {
    return fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((array) => Buffer.from(array)),
      fc.constantFrom(0, 1, 16, 31, 32, 33, 63, 64, 65, 64 * 1024 + 1, 192 * 1024 + 1).map((length) => bytes(length)),
    );
  }
  if (Array.isArray(current)) {
    return fc.oneof(
      fc.constant([]),
      fc.nat({ max: 5000 }).map((count) => Array.from({ length: count }, () => current[0] ?? null).filter((item) => item !== null)),
      fc.constant([...current, ...current]),
    );
  }
  return fc.constant(null);
}

/**
 * A seed frame with one to three of its fields replaced by hostile values of the kind the
 * seed holds there. A replacement below an earlier one (inside a list or message already
 * replaced) is dropped.
 */
function mutatedFrame<Frame>(seeds: readonly Frame[]): fc.Arbitrary<Frame> {
  const mutable = seeds.filter((seed) => mutablePaths(seed).length > 0);
  return fc.constantFrom(...mutable).chain((seed) =>
    fc
      .shuffledSubarray(mutablePaths(seed), { minLength: 1, maxLength: Math.min(3, mutablePaths(seed).length) })
      .chain((paths) => fc.tuple(...paths.map((path) => hostileReplacement(getAt(seed, path)).map((replacement) => ({ path, replacement })))))
      .map((replacements) =>
        replacements.reduce((frame, { path, replacement }) => {
          const parent = path.slice(0, -1).reduce<unknown>((node, key) => (isMessage(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[key] : undefined), frame);
          const key = path[path.length - 1]!;
          const stillThere = Array.isArray(parent) ? typeof key === 'number' && key < parent.length : isMessage(parent);
          return stillThere ? setAt(frame, path, replacement) : frame;
        }, seed),
      ),
  );
}

/**
 * Whether every number in a frame fits a uint32. The validators do not bound every count
 * (a change's line counts, for one), and protobufjs writes a number past a uint32 modulo
 * 2^32, so the round trip is only asserted where the value itself is representable.
 */
function numbersFitUint32(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
  if (Array.isArray(value)) return value.every(numbersFitUint32);
  return isMessage(value) ? Object.values(value).every(numbersFitUint32) : true;
}

/** Byte-level damage to an encoded frame, as a broken or hostile peer would send it. */
function damagedBytes(encoded: Buffer): fc.Arbitrary<Buffer> {
  const length = encoded.length;
  const at = fc.nat({ max: Math.max(0, length - 1) });
  return fc.oneof(
    fc.tuple(at, fc.integer({ min: 0, max: 7 })).map(([index, bit]) => {
      const copy = Buffer.from(encoded);
      if (length > 0) copy[index] = copy[index]! ^ (1 << bit);
      return copy;
    }),
    fc.nat({ max: length }).map((cut) => encoded.subarray(0, cut)),
    fc.tuple(fc.nat({ max: length }), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([index, inserted]) => Buffer.concat([encoded.subarray(0, index), inserted, encoded.subarray(index)])),
    // Concatenated messages merge in protobuf: a second oneof member overrides the first.
    fc.constant(Buffer.concat([encoded, encoded])),
    fc.uint8Array({ minLength: 1, maxLength: 32 }).map((tail) => Buffer.concat([encoded, tail])),
  );
}

/** Start-group tags nested `depth` deep inside an unknown field: protobufjs skips them recursively. */
const nestedGroups = fc.integer({ min: 1, max: 20_000 }).map((depth) => Buffer.concat([Buffer.alloc(depth, 0x7b /* field 15, start group */), Buffer.alloc(depth, 0x7c /* end group */)]));

function varint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Buffer.from(out);
}

const tag = (field: number, wireType: number) => varint(field * 8 + wireType);
const lengthDelimited = (field: number, body: Buffer) => Buffer.concat([tag(field, 2), varint(body.length), body]);

/**
 * Well-framed protobuf whose fields are random: any field number a message of the contract
 * uses (and a few it does not), any wire type, and nested messages of the same kind. The
 * decoder reads a known field by its declared type whatever the wire type says, so this
 * reaches the validators with every field holding something unexpected.
 */
const randomMessage = fc.letrec<{ message: Buffer; field: Buffer }>((tie) => ({
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.constantFrom(2 ** 53 - 1, 100, 1_000_000))).map(([field, value]) => Buffer.concat([tag(field, 0), varint(value)])),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([field, body]) => Buffer.concat([tag(field, 1), body])),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.uint8Array({ maxLength: 70 })).map(([field, body]) => lengthDelimited(field, Buffer.from(body))),
    fc.tuple(fc.integer({ min: 1, max: 20 }), tie('message')).map(([field, body]) => lengthDelimited(field, body)),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([field, body]) => Buffer.concat([tag(field, 5), body])),
  ),
  message: fc.array(tie('field'), { maxLength: 10, depthIdentifier: 'message' }).map((fields) => Buffer.concat(fields.map((field) => field as Buffer))),
})).message;

/** A frame naming one of its oneof members (field 1 to 9 in both directions) with a random body. */
const randomMemberFrame = fc.tuple(fc.integer({ min: 1, max: 9 }), randomMessage).map(([member, body]) => lengthDelimited(member, body));

const randomBytes = fc.oneof(fc.uint8Array({ maxLength: 2048 }).map((array) => Buffer.from(array)), nestedGroups, randomMemberFrame, randomMemberFrame);

describe('frame decoder and validators: properties', () => {
  it('accepts every seed frame, so that each mutation starts from a frame that passes', () => {
    for (const seed of WORKER_FRAME_SEEDS) expect(judge(() => validateWorkerFrame(seed))).toBe('accepted');
    for (const seed of CONTROL_FRAME_SEEDS) expect(judge(() => validateControlFrame(seed))).toBe('accepted');
  });

  it('a valid frame survives the wire unchanged and is still accepted (round trip)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WORKER_FRAME_SEEDS), (frame) => {
        const decoded = decodeWorkerFrame(encodeWorkerFrame(frame));
        expect(decoded).toEqual(frame);
        expect(judge(() => validateWorkerFrame(decoded))).toBe('accepted');
      }),
      { numRuns: 30 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...CONTROL_FRAME_SEEDS), (frame) => {
        const decoded = decodeControlFrame(encodeControlFrame(frame));
        expect(decoded).toEqual(frame);
        expect(judge(() => validateControlFrame(decoded))).toBe('accepted');
      }),
      { numRuns: 30 },
    );
  });

  it('random bytes and random protobuf upstream: undecodable, or a WorkerFrame accepted or refused with a FrameValidationError', () => {
    fc.assert(
      fc.property(randomBytes, (input) => {
        receive(input, decodeWorkerFrame, validateWorkerFrame);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes and random protobuf downstream: undecodable, or a ControlFrame accepted or refused with a FrameValidationError', () => {
    fc.assert(
      fc.property(randomBytes, (input) => {
        receive(input, decodeControlFrame, validateControlFrame);
      }),
      { numRuns: 1000 },
    );
  });

  it('damaged encodings of valid worker frames never escape as anything but a decode error or a refusal', () => {
    const damaged = fc.constantFrom(...WORKER_FRAME_SEEDS).chain((seed) => damagedBytes(encodeWorkerFrame(seed)));
    fc.assert(
      fc.property(damaged, (input) => {
        receive(input, decodeWorkerFrame, validateWorkerFrame);
      }),
      { numRuns: 1000 },
    );
  });

  it('damaged encodings of valid control frames never escape as anything but a decode error or a refusal', () => {
    const damaged = fc.constantFrom(...CONTROL_FRAME_SEEDS).chain((seed) => damagedBytes(encodeControlFrame(seed)));
    fc.assert(
      fc.property(damaged, (input) => {
        receive(input, decodeControlFrame, validateControlFrame);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated worker frames (out of range, huge, unknown enum values, missing messages) are accepted or refused with a code', () => {
    fc.assert(
      fc.property(mutatedFrame(WORKER_FRAME_SEEDS), (frame) => {
        if (judge(() => validateWorkerFrame(frame)) === 'accepted') {
          // What the validator lets through must mean the same on the other side of the wire:
          // no number it accepts may be cut down to 32 bits by the encoding.
          const decoded = decodeWorkerFrame(encodeWorkerFrame(frame));
          expect(decoded).toEqual(frame);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated control frames (out of range, huge, unknown enum values, missing messages) are accepted or refused with a code', () => {
    fc.assert(
      fc.property(mutatedFrame(CONTROL_FRAME_SEEDS), (frame) => {
        if (judge(() => validateControlFrame(frame)) === 'accepted' && numbersFitUint32(frame)) {
          const decoded = decodeControlFrame(encodeControlFrame(frame));
          expect(decoded).toEqual(frame);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a frame carrying a second oneof member beside the one it names is always refused', () => {
    const smuggling = fc
      .tuple(fc.constantFrom(...WORKER_FRAME_SEEDS), fc.constantFrom(...WORKER_FRAME_SEEDS))
      .filter(([named, extra]) => named.frame !== extra.frame)
      .map(([named, extra]) => ({ ...named, [extra.frame!]: extra[extra.frame!] }) as WorkerFrame__Output);
    fc.assert(
      fc.property(smuggling, (frame) => {
        expect(judge(() => validateWorkerFrame(frame))).toBe('refused');
      }),
      { numRuns: 100 },
    );
  });
});
