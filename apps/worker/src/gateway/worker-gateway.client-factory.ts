import * as grpc from '@grpc/grpc-js';
import { WIRE_LIMITS, loadAirlockV1, type WorkerGatewayClient } from '@airlock/protocol';
import type { ControlPlaneConfig } from '../config/worker-config.loader';

/** Channel options every worker connection uses: keepalive, and the wire size limits. */
export const WORKER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_send_message_length': WIRE_LIMITS.maxUpstreamMessageBytes,
  'grpc.max_receive_message_length': WIRE_LIMITS.maxDownstreamMessageBytes,
};

/**
 * Creates the WorkerGateway client that `enroll`, `run` and `doctor` all use. With `tls` it
 * trusts only the pinned CA (not the system store: the control plane's CA is the customer's
 * or operator's choice, and a public CA would let anyone with a certificate for the name
 * pose as it). Without it the channel is plain text, which the config allows only to a
 * loopback address.
 */
export function createWorkerGatewayClient(controlPlane: Pick<ControlPlaneConfig, 'address' | 'tls'>): WorkerGatewayClient {
  const { WorkerGateway } = loadAirlockV1();
  const { address, tls } = controlPlane;
  if (!tls) return new WorkerGateway(address, grpc.credentials.createInsecure(), WORKER_CHANNEL_OPTIONS);
  const options: grpc.ChannelOptions = tls.serverName ? { ...WORKER_CHANNEL_OPTIONS, 'grpc.ssl_target_name_override': tls.serverName } : WORKER_CHANNEL_OPTIONS;
  return new WorkerGateway(address, grpc.credentials.createSsl(tls.caPem), options);
}
