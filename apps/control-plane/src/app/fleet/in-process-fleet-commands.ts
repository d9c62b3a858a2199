import { Inject, Injectable } from '@nestjs/common';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import { WorkerSessionRegistry } from '../dispatch/worker-session.registry';
import { PolicyDistributor } from '../policies/policy-distributor';
import type { FleetCommands } from './fleet-commands';

/**
 * The single-process FleetCommands: applies each command to the worker's stream if this
 * process holds it. NatsFleetCommands applies the commands it receives through it as well.
 */
@Injectable()
export class InProcessFleetCommands implements FleetCommands {
  constructor(
    private readonly sessions: WorkerSessionRegistry,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    private readonly policyDistributor: PolicyDistributor,
  ) {}

  async cancelAttempt(workerId: string, attempt: { readonly jobId: string; readonly attempt: number }): Promise<boolean> {
    return this.sessions.sessionOf(workerId)?.send({ cancel: { attempt: { jobId: attempt.jobId, attempt: attempt.attempt } } }) ?? false;
  }

  async setDraining(workerId: string, draining: boolean): Promise<boolean> {
    const held = this.sessions.setDraining(workerId, draining);
    // The stream's credits count again: the dispatcher serving this process may hand it work now.
    if (!draining && held) this.dispatcher.capacityAvailable();
    return held;
  }

  revoke(workerId: string): Promise<boolean> {
    return this.sessions.revoke(workerId);
  }

  pushPolicy(tenantId: string): Promise<number> {
    return this.policyDistributor.pushCurrent(tenantId);
  }
}
