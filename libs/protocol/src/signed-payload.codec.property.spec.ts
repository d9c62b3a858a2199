import * as fc from 'fast-check';
import {
  InstructionPayloadDecodeError,
  PolicyBundlePayloadDecodeError,
  WIRE_LIMITS,
  decodeInstructionPayload,
  decodePolicyBundlePayload,
  encodeInstructionPayload,
  encodePolicyBundlePayload,
  type InstructionPayload,
  type PolicyBundlePayload,
} from './index';

// Property tests of the signed payload codecs: the bytes a signature covers. Decoding any
// bytes yields a payload or the codec's own error (the verifiers treat that as MALFORMED),
// and a payload survives encoding and decoding unchanged, so what is signed is what is read.

/** Runs `action`; an error must be `errorClass`, anything else fails the property. */
function outcomeOf(action: () => unknown, errorClass: new (...args: never[]) => Error): 'ok' | 'refused' {
  try {
    action();
    return 'ok';
  } catch (error) {
    if (!(error instanceof errorClass)) throw error;
    // The message names the problem, never the bytes.
    expect(error.message).toMatch(/payload/);
    return 'refused';
  }
}

const uuid = fc.uuid({ version: [1, 2, 3, 4, 5] });
const nonce = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes));
const text = fc.string({ unit: 'grapheme', maxLength: 200 });
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
const int64 = fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

/** Any payload the proto can hold, valid or not for the validators: the codec does not judge content. */
const instructionPayload: fc.Arbitrary<InstructionPayload> = fc
  .tuple(
    fc.record({ jobId: fc.oneof(uuid, text), attempt: uint32, tenantId: uuid, audience: uuid, issuedAtMs: int64, expiresAtMs: int64, nonce, policyRef: fc.oneof(fc.constant(''), uuid) }),
    fc.oneof(
      fc.record({ fix: fc.record({ repoAlias: text, baseRef: text, ticket: fc.record({ title: text, description: text }), deliveryJobId: text, deliveryGeneration: uint32, ticketRef: text }) }),
      fc.record({ noop: fc.constant({}) }),
      fc.record({ review: fc.oneof(fc.record({ repoAlias: text, mergeRequest: fc.integer({ min: 1, max: 0xffff_ffff }) }), fc.record({ repoAlias: text, branch: fc.string({ minLength: 1 }) })) }),
      fc.record({ index: fc.record({ repoAlias: text, ref: text }) }),
    ),
  )
  .map(([header, task]) => ({ ...header, ...task }));

const bundlePayload: fc.Arbitrary<PolicyBundlePayload> = fc.record({
  tenantId: uuid,
  audience: uuid,
  revision: uint32,
  issuedAtMs: int64,
  expiresAtMs: int64,
  layersJson: fc.oneof(fc.json(), text),
});

/** Random bytes, and encodings of valid payloads with a bit flipped, cut short or padded. */
function hostileBytes(encodings: fc.Arbitrary<Buffer>, maxBytes: number): fc.Arbitrary<Buffer> {
  const damaged = encodings.chain((encoded) =>
    fc.oneof(
      fc.tuple(fc.nat({ max: encoded.length - 1 }), fc.integer({ min: 0, max: 7 })).map(([index, bit]) => {
        const copy = Buffer.from(encoded);
        copy[index] = copy[index]! ^ (1 << bit);
        return copy;
      }),
      fc.nat({ max: encoded.length }).map((cut) => encoded.subarray(0, cut)),
      fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => Buffer.concat([encoded, tail])),
    ),
  );
  return fc.oneof(fc.uint8Array({ maxLength: 1024 }).map((bytes) => Buffer.from(bytes)), damaged, fc.constant(Buffer.alloc(maxBytes + 1)));
}

describe('signed payload codecs: properties', () => {
  it('an instruction payload survives encoding and decoding unchanged', () => {
    fc.assert(
      fc.property(instructionPayload, (payload) => {
        const decoded = decodeInstructionPayload(encodeInstructionPayload(payload));
        expect(decoded).toMatchObject(payload);
      }),
      { numRuns: 300 },
    );
  });

  it('a policy bundle payload survives encoding and decoding unchanged', () => {
    fc.assert(
      fc.property(bundlePayload, (payload) => {
        expect(decodePolicyBundlePayload(encodePolicyBundlePayload(payload))).toEqual(payload);
      }),
      { numRuns: 300 },
    );
  });

  it('any bytes decode to an instruction payload or fail with InstructionPayloadDecodeError', () => {
    const encodings = instructionPayload.map((payload) => encodeInstructionPayload(payload));
    fc.assert(
      fc.property(hostileBytes(encodings, WIRE_LIMITS.maxInstructionPayloadBytes), (bytes) => {
        outcomeOf(() => decodeInstructionPayload(bytes), InstructionPayloadDecodeError);
      }),
      { numRuns: 1000 },
    );
  });

  it('any bytes decode to a policy bundle payload or fail with PolicyBundlePayloadDecodeError', () => {
    const encodings = bundlePayload.map((payload) => encodePolicyBundlePayload(payload));
    fc.assert(
      fc.property(hostileBytes(encodings, WIRE_LIMITS.maxPolicyBundlePayloadBytes), (bytes) => {
        outcomeOf(() => decodePolicyBundlePayload(bytes), PolicyBundlePayloadDecodeError);
      }),
      { numRuns: 1000 },
    );
  });

  it('encoding an object of the wrong shape fails with the codec error, never a TypeError', () => {
    const fieldNames = ['jobId', 'attempt', 'tenantId', 'audience', 'issuedAtMs', 'expiresAtMs', 'nonce', 'policyRef', 'fix', 'noop', 'review', 'index', 'revision', 'layersJson'];
    const illShaped = fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...fieldNames), fc.anything()));
    fc.assert(
      fc.property(illShaped, (object) => {
        outcomeOf(() => encodeInstructionPayload(object as InstructionPayload), InstructionPayloadDecodeError);
        outcomeOf(() => encodePolicyBundlePayload(object as PolicyBundlePayload), PolicyBundlePayloadDecodeError);
      }),
      // A string that is not base64 where bytes belong passed verify() and then threw
      // protobufjs's own error; a CI run found it.
      { numRuns: 500, examples: [[{ nonce: ' ' }]] },
    );
  });
});
