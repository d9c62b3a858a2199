import type { Schemas } from '../api/client';
import { shortId } from '../ui/format';

export type Worker = Schemas['WorkerResponse'];
export type WorkerDetail = Schemas['WorkerDetailResponse'];

/**
 * What a worker is doing for the fleet, most decisive first: a revoked worker is out for
 * good whatever its connection says; a draining one takes no new work, connected or not.
 */
export type WorkerState = 'revoked' | 'draining' | 'online' | 'offline';

export function workerState(worker: Pick<Worker, 'revoked' | 'draining' | 'status'>): WorkerState {
  if (worker.revoked) return 'revoked';
  if (worker.draining) return 'draining';
  return worker.status === 'ONLINE' ? 'online' : 'offline';
}

export const WORKER_STATE_LABEL: Readonly<Record<WorkerState, string>> = { revoked: 'Revoked', draining: 'Draining', online: 'Online', offline: 'Offline' };

/** The tone of the status badge (its colour repeats the word, never replaces it). */
export const WORKER_STATE_TONE: Readonly<Record<WorkerState, 'good' | 'bad' | 'pending' | 'neutral'>> = {
  revoked: 'bad',
  draining: 'pending',
  online: 'good',
  offline: 'neutral',
};

/** The name the worker's operator gave it, or the start of its id. */
export function workerLabel(worker: Pick<Worker, 'id' | 'name'>): string {
  return worker.name ?? shortId(worker.id);
}

// 12 hex digits (48 bits) tell local policies apart at a glance; the full digest is in the title and the copy.
const SHORT_DIGEST_LENGTH = 12;

export function shortDigest(digest: string): string {
  return digest.length > SHORT_DIGEST_LENGTH ? `${digest.slice(0, SHORT_DIGEST_LENGTH)}…` : digest;
}

/** The worker's pools: the one its enrollment token named, then its config's labels, each once. */
export function workerPools(worker: Pick<Worker, 'pool' | 'labels'>): ReadonlyArray<{ readonly name: string; readonly enrolled: boolean }> {
  const pools = worker.pool ? [{ name: worker.pool, enrolled: true }] : [];
  return [...pools, ...worker.labels.filter((label) => label !== worker.pool).map((name) => ({ name, enrolled: false }))];
}

/** Which control actions the fleet offers on a worker in this state (with fleet:write). */
export function workerActions(worker: Pick<Worker, 'revoked' | 'draining'>): { readonly drain: boolean; readonly undrain: boolean; readonly revoke: boolean } {
  if (worker.revoked) return { drain: false, undrain: false, revoke: false };
  return { drain: !worker.draining, undrain: worker.draining, revoke: true };
}

export const METADATA_LEVEL_LABEL: Readonly<Record<Schemas['MetadataLevel'], string>> = {
  METADATA_LEVEL_MINIMAL: 'Minimal',
  METADATA_LEVEL_STANDARD: 'Standard',
  METADATA_LEVEL_STANDARD_BUCKETED: 'Standard, bucketed',
};

export const TREATMENT_LABEL: Readonly<Record<Schemas['ResultFieldTreatment'], string>> = {
  EXACT: 'As measured',
  NOT_SENT: 'Not sent',
  POWER_OF_TWO: 'Power of two',
  ROUNDED_100_MS: 'Rounded to 100 ms',
  ZERO_OR_ONE: 'Zero or one',
  FIXED: 'Fixed value',
  ALTERED: 'Altered',
};
