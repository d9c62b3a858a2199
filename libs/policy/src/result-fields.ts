import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, WORKER_GATEWAY_PROTO, protoIncludeRoot, type JobResult__Output } from '@airlock/protocol';
import type { EffectivePolicy } from './effective-policy';
import { applyMetadataLevel, bucketCount, roundDurationMs } from './metadata-level';

/** The metadata levels a worker reports a result at (MetadataLevel of airlock.v1, but UNSPECIFIED). */
export const REPORTED_METADATA_LEVELS = ['METADATA_LEVEL_MINIMAL', 'METADATA_LEVEL_STANDARD', 'METADATA_LEVEL_STANDARD_BUCKETED'] as const;
export type ReportedMetadataLevel = (typeof REPORTED_METADATA_LEVELS)[number];

/** The effective-policy setting a worker reports each level under (what applyMetadataLevel is given). */
export const METADATA_SETTING_OF_LEVEL: Readonly<Record<ReportedMetadataLevel, EffectivePolicy['metadata']>> = {
  METADATA_LEVEL_MINIMAL: { report: 'minimal', buckets: false },
  METADATA_LEVEL_STANDARD: { report: 'standard', buckets: false },
  METADATA_LEVEL_STANDARD_BUCKETED: { report: 'standard', buckets: true },
};

export function isReportedMetadataLevel(value: unknown): value is ReportedMetadataLevel {
  return (REPORTED_METADATA_LEVELS as readonly unknown[]).includes(value);
}

/** What happens to one field of a JobResult at a level, as applyMetadataLevel does it. */
export type ResultFieldTreatment = 'EXACT' | 'NOT_SENT' | 'POWER_OF_TWO' | 'ROUNDED_100_MS' | 'ZERO_OR_ONE' | 'FIXED' | 'ALTERED';

/** One leaf field of the JobResult message and what a worker may send in it at one level. */
export interface ResultFieldDescription {
  /** Dotted path as the generated types name it; `[]` marks each entry of a repeated field (`phaseDurations[].durationMs`). */
  readonly field: string;
  /** The protobuf type: a scalar (uint32, bool, bytes, string) or `enum <Name>`. */
  readonly type: string;
  /** Whether the field can carry anything at this level (false: always zero or empty). */
  readonly sent: boolean;
  readonly treatment: ResultFieldTreatment;
  /** How the value is bucketed or bounded, in one sentence. */
  readonly note: string;
}

const NOTES: Readonly<Record<ResultFieldTreatment, (fixed: string) => string>> = {
  EXACT: () => 'Sent as measured.',
  NOT_SENT: () => 'Left empty at this level.',
  POWER_OF_TWO: () => 'Rounded down to 0 or a power of two.',
  ROUNDED_100_MS: () => 'Rounded to the nearest 100 ms.',
  ZERO_OR_ONE: () => 'Sent as 0 when zero, otherwise 1.',
  FIXED: (fixed) => `Always ${fixed} at this level.`,
  ALTERED: () => 'Changed by the level in a way not described here.',
};

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

interface LeafField {
  /** Property names from the JobResult down to the leaf; '[]' steps into the first entry of a repeated field. */
  readonly steps: readonly string[];
  readonly protoType: string;
  /** The enum's value names, for enum fields. */
  readonly enumValues: readonly string[];
}

const PACKAGE = 'airlock.v1';
let cachedLeaves: readonly LeafField[] | undefined;

/**
 * The fields of JobResult (proto/airlock/v1/worker_gateway.proto) and what a worker may send
 * in each at `level`. Worked out, not written down: the message's fields come from the proto
 * as the loader reads it, and each one's treatment from running applyMetadataLevel — the
 * function a worker runs before it sends — on two probe results that differ in every field.
 * A field added to the proto, or a change to a level, shows up here by itself.
 */
export function describeResultFields(level: ReportedMetadataLevel): ResultFieldDescription[] {
  const leaves = resultLeaves();
  const probes = [buildProbe(leaves, 0), buildProbe(leaves, 1)] as const;
  const sent = probes.map((probe) => applyMetadataLevel(probe, METADATA_SETTING_OF_LEVEL[level]) as unknown);
  return leaves.map((leaf) => {
    const inputs = probes.map((probe) => valueAt(probe, leaf.steps));
    const outputs = sent.map((result) => valueAt(result, leaf.steps));
    const treatment = treatmentOf(leaf, inputs, outputs);
    return {
      field: leaf.steps.join('.').replaceAll('.[]', '[]'),
      type: leaf.enumValues.length > 0 ? `enum ${leaf.protoType}` : leaf.protoType,
      sent: treatment !== 'NOT_SENT',
      treatment,
      note: NOTES[treatment](String(outputs[0])),
    };
  });
}

function treatmentOf(leaf: LeafField, inputs: readonly unknown[], outputs: readonly unknown[]): ResultFieldTreatment {
  if (outputs.every(isEmptyValue)) return 'NOT_SENT';
  if (outputs.every((output, n) => sameValue(output, inputs[n]))) return 'EXACT';
  if (typeof inputs[0] === 'number' && outputs.every((output) => typeof output === 'number')) {
    const numbers = inputs as number[];
    if (outputs.every((output) => output === 1)) return 'ZERO_OR_ONE';
    if (outputs.every((output, n) => output === bucketCount(numbers[n]!))) return 'POWER_OF_TWO';
    if (outputs.every((output, n) => output === roundDurationMs(numbers[n]!))) return 'ROUNDED_100_MS';
  }
  if (leaf.protoType !== 'bool' && outputs.every((output) => sameValue(output, outputs[0]))) return 'FIXED';
  return 'ALTERED';
}

/** The leaf fields of JobResult, read from the proto once per process. */
function resultLeaves(): readonly LeafField[] {
  if (!cachedLeaves) {
    const definition = protoLoader.loadSync(WORKER_GATEWAY_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoIncludeRoot()] });
    cachedLeaves = leavesOf(definition, 'JobResult', []);
  }
  return cachedLeaves;
}

function leavesOf(definition: protoLoader.PackageDefinition, message: string, prefix: readonly string[]): LeafField[] {
  return messageFields(definition, message).flatMap((field) => {
    const steps = field.label === 'LABEL_REPEATED' ? [...prefix, field.name, '[]'] : [...prefix, field.name];
    if (field.type === 'TYPE_MESSAGE') return leavesOf(definition, field.typeName, steps);
    if (field.type === 'TYPE_ENUM') return [{ steps, protoType: field.typeName, enumValues: enumValues(definition, field.typeName) }];
    return [{ steps, protoType: field.type.replace(/^TYPE_/, '').toLowerCase(), enumValues: [] }];
  });
}

function messageFields(definition: protoLoader.PackageDefinition, message: string): FieldDescriptor[] {
  const type = descriptorOf(definition, message, 'Protocol Buffer 3 DescriptorProto');
  const fields = (type as { field?: unknown }).field;
  if (!Array.isArray(fields)) throw new Error(`${PACKAGE}.${message} has no field list`);
  return fields.map((field: Partial<FieldDescriptor>) => {
    const { name, label, type: fieldType, typeName } = field;
    if (typeof name !== 'string' || typeof label !== 'string' || typeof fieldType !== 'string' || typeof typeName !== 'string') {
      throw new Error(`${PACKAGE}.${message} has a field the loader did not describe`);
    }
    return { name, label, type: fieldType, typeName };
  });
}

function enumValues(definition: protoLoader.PackageDefinition, name: string): string[] {
  const type = descriptorOf(definition, name, 'Protocol Buffer 3 EnumDescriptorProto');
  const values = (type as { value?: unknown }).value;
  if (!Array.isArray(values)) throw new Error(`${PACKAGE}.${name} has no values`);
  return values.map((value: { name?: unknown }) => String(value.name));
}

function descriptorOf(definition: protoLoader.PackageDefinition, name: string, format: string): object {
  const entry = definition[`${PACKAGE}.${name}`];
  if (!entry || !('format' in entry) || entry.format !== format || typeof entry.type !== 'object' || entry.type === null) {
    throw new Error(`${PACKAGE}.${name} is not a message or enum the loader knows`);
  }
  return entry.type;
}

/**
 * A JobResult with every field set, repeated fields to one entry. Variant 0 and 1 differ in
 * every leaf, so a value a level passes on is told apart from one it fixes: counts that are
 * neither powers of two nor multiples of 100, different bytes, enum values other than the
 * zero one (unspecified, i.e. empty) and different from each other where the enum allows.
 */
function buildProbe(leaves: readonly LeafField[], variant: 0 | 1): JobResult__Output {
  const root: Record<string, unknown> = {};
  for (const leaf of leaves) setValueAt(root, leaf.steps, probeValue(leaf, variant));
  return root as unknown as JobResult__Output;
}

function probeValue(leaf: LeafField, variant: 0 | 1): unknown {
  if (leaf.enumValues.length > 0) {
    const named = leaf.enumValues.slice(1);
    return variant === 0 ? named[0] : named.at(-1);
  }
  switch (leaf.protoType) {
    case 'bool':
      return variant === 0;
    case 'bytes':
      return Buffer.alloc(32, variant === 0 ? 0xab : 0xcd);
    case 'string':
      return variant === 0 ? 'probe-a' : 'probe-b';
    default:
      return variant === 0 ? 12_345 : 54_321;
  }
}

function setValueAt(root: Record<string, unknown>, steps: readonly string[], value: unknown): void {
  // Containers keyed by property name or, for a repeated field, by entry 0.
  let node: Record<string, unknown> = root;
  for (let index = 0; index < steps.length; index += 1) {
    const key = steps[index] === '[]' ? '0' : steps[index]!;
    if (index === steps.length - 1) {
      node[key] = value;
      return;
    }
    node[key] ??= steps[index + 1] === '[]' ? [] : {};
    node = node[key] as Record<string, unknown>;
  }
}

function valueAt(root: unknown, steps: readonly string[]): unknown {
  let node: unknown = root;
  for (const step of steps) {
    if (node === null || node === undefined) return undefined;
    node = step === '[]' ? (Array.isArray(node) ? node[0] : undefined) : (node as Record<string, unknown>)[step];
  }
  return node;
}

/** What a receiver reads as "nothing": proto3 defaults, an absent message, no entries. */
function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === 0 || value === false || value === '') return true;
  if (Buffer.isBuffer(value)) return value.length === 0;
  return typeof value === 'string' && value.endsWith('_UNSPECIFIED');
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}
