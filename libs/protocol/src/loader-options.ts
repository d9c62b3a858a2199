import type { Options } from '@grpc/proto-loader';

/**
 * The one set of options used both to load `proto/` at run time and to generate the
 * TypeScript types in `generated/` (see the `protocol:generate` npm script), so the types
 * always describe the objects the loader really produces.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
} as const satisfies Options;
