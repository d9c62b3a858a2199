import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from './loader-options';
import { WORKER_GATEWAY_PROTO, protoIncludeRoot } from './proto-files';
import type { ProtoGrpcType } from './generated/worker_gateway';

let cached: ProtoGrpcType | undefined;

/** Loads `airlock.v1` once per process with the shared loader options. */
export function loadAirlockV1(): ProtoGrpcType['airlock']['v1'] {
  if (!cached) {
    const definition = protoLoader.loadSync(WORKER_GATEWAY_PROTO, {
      ...PROTO_LOADER_OPTIONS,
      includeDirs: [protoIncludeRoot()],
    });
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached.airlock.v1;
}

/** The WorkerGateway service definition, for `server.addService`. */
export function workerGatewayServiceDefinition(): grpc.ServiceDefinition {
  return loadAirlockV1().WorkerGateway.service;
}
