import * as grpc from '@grpc/grpc-js';
import { WIRE_LIMITS, loadAirlockV1, type WorkerGatewayClient } from '@airlock/protocol';
import type { ControlPlaneConfig, ControlPlaneProxyConfig } from '../config/worker-config.loader';
import type { ClientCertificate } from '../identity/worker-identity.store';
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS } from './reconnect.backoff';

/** Channel options every worker connection uses: keepalive, the wire size limits, and the channel's reconnect backoff. */
export const WORKER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // The channel backs off its own connection attempts (grpc-js: from 1 s, growing to 120 s)
  // beneath the worker's reconnect backoff, and a Connect made meanwhile fails at once: held
  // to the worker's base and cap, a worker whose control plane restarted is not kept away by
  // a second, longer backoff once it is back.
  'grpc.initial_reconnect_backoff_ms': RECONNECT_BASE_MS,
  'grpc.max_reconnect_backoff_ms': RECONNECT_CAP_MS,
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
export function createWorkerGatewayClient(
  controlPlane: Pick<ControlPlaneConfig, 'address' | 'tls'> & { readonly proxy?: ControlPlaneProxyConfig | undefined },
  /** The client certificate enrollment brought, presented on every TLS connection (mutual TLS). */
  clientCertificate?: ClientCertificate,
): WorkerGatewayClient {
  const { WorkerGateway } = loadAirlockV1();
  const { address, tls, proxy } = controlPlane;
  let options: grpc.ChannelOptions = WORKER_CHANNEL_OPTIONS;
  if (tls?.serverName) options = { ...options, 'grpc.ssl_target_name_override': tls.serverName };
  const credentials = tls ? grpc.credentials.createSsl(tls.caPem, clientCertificate?.keyPem ?? null, clientCertificate?.certPem ?? null) : grpc.credentials.createInsecure();
  // Without a configured proxy the channel connects directly, whatever grpc_proxy, https_proxy or
  // http_proxy the worker inherited: the config file is the one place that decides the route.
  if (!proxy) return new WorkerGateway(address, credentials, { ...options, 'grpc.enable_http_proxy': 0 });
  return withGrpcProxyEnvironment(proxy, () => new WorkerGateway(address, credentials, options));
}

/**
 * grpc-js's only public way to use an HTTP CONNECT proxy is its environment variables: it reads
 * `grpc_proxy` (before `https_proxy`, then `http_proxy`) and the exclusion list `no_grpc_proxy`
 * (or, when that is empty, `no_proxy`) once, synchronously, in the channel constructor, and
 * keeps the result in the channel's options (`grpc.http_connect_target`/`_creds`) for every
 * later (re)connection. So the variables are set for exactly the one synchronous construction
 * of the control-plane channel and restored right after, rather than once at worker start:
 * - only this channel is proxied; nothing else in the process, no later channel and no child
 *   process (git) ever sees the setting, and inference (the openai SDK over fetch, which does
 *   not read proxy variables anyway) stays on the inside network;
 * - `no_grpc_proxy` is set to a value that matches no host name, so an inherited `no_proxy`
 *   (written for other tools, often listing internal domains) cannot silently route the
 *   control plane around the proxy the operator configured.
 * TLS still runs end to end inside the CONNECT tunnel, against the pinned CA.
 */
function withGrpcProxyEnvironment<T>(proxy: ControlPlaneProxyConfig, construct: () => T): T {
  const url = new URL(proxy.url);
  if (proxy.credentials !== undefined) {
    // grpc-js decodeURIComponent()s "username:password" and sends it as Basic auth.
    const colon = proxy.credentials.indexOf(':');
    url.username = encodeURIComponent(proxy.credentials.slice(0, colon));
    url.password = encodeURIComponent(proxy.credentials.slice(colon + 1));
  }
  const saved = { grpc_proxy: process.env['grpc_proxy'], no_grpc_proxy: process.env['no_grpc_proxy'] };
  process.env['grpc_proxy'] = url.toString();
  // Not a host name (hosts are [A-Za-z0-9.-] or a bracketed IPv6 address), so it excludes nothing.
  process.env['no_grpc_proxy'] = '<none>';
  try {
    return construct();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
