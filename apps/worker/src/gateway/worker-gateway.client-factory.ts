import * as grpc from '@grpc/grpc-js';
import { WIRE_LIMITS, loadAirlockV1, type WorkerGatewayClient } from '@airlock/protocol';

/** Channel options every worker connection uses: keepalive, and the wire size limits. */
export const WORKER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_send_message_length': WIRE_LIMITS.maxUpstreamMessageBytes,
  'grpc.max_receive_message_length': WIRE_LIMITS.maxDownstreamMessageBytes,
};

/**
 * Creates a WorkerGateway client. Plain-text only for now: TLS with a private CA is a later
 * step, which is why the config schema insists on `controlPlane.insecure: true`.
 */
export function createWorkerGatewayClient(address: string): WorkerGatewayClient {
  const { WorkerGateway } = loadAirlockV1();
  return new WorkerGateway(address, grpc.credentials.createInsecure(), WORKER_CHANNEL_OPTIONS);
}
