import { randomUUID } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

/**
 * Nest injection token for the NatsConnection a replica shares with the others: present only
 * when AIRLOCK_NATS_URL names servers (several replicas); absent in the single-process default.
 */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** Nest injection token for this process's replica id: random per start, in logs and NATS client names. */
export const REPLICA_ID = Symbol('REPLICA_ID');

export function newReplicaId(): string {
  return randomUUID();
}

/**
 * Connects to NATS and keeps reconnecting for as long as the process runs: a NATS restart
 * delays queued work and live events, it never stops the replica. Status changes are logged
 * by kind only (the server list may carry credentials).
 */
export async function connectToNats(servers: readonly string[], replicaId: string, logger: LoggerService): Promise<NatsConnection> {
  const connection = await connect({
    servers: [...servers],
    name: `airlock-control-plane-${replicaId}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: 5_000,
  });
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'ping') continue;
      logger.log({ event: 'nats_status', status: status.type }, 'Nats');
    }
  })();
  return connection;
}
