import { IllegalLifecycleTransitionError, WorkerLifecycle, type WorkerState } from './worker-lifecycle';

describe('WorkerLifecycle', () => {
  it('follows the allowed edges and reports each change', () => {
    const changes: string[] = [];
    const lifecycle = new WorkerLifecycle((from, to) => changes.push(`${from}>${to}`));
    lifecycle.transition('READY');
    lifecycle.transition('RUNNING');
    lifecycle.transition('READY');
    lifecycle.transition('DRAINING');
    lifecycle.transition('STOPPED');
    expect(changes).toEqual(['STARTING>READY', 'READY>RUNNING', 'RUNNING>READY', 'READY>DRAINING', 'DRAINING>STOPPED']);
  });

  it('throws on an illegal transition', () => {
    const lifecycle = new WorkerLifecycle();
    expect(() => lifecycle.transition('RUNNING')).toThrow(IllegalLifecycleTransitionError);
    lifecycle.transition('DRAINING');
    expect(() => lifecycle.transition('READY')).toThrow(/DRAINING → READY/);
    expect(lifecycle.acceptsWork).toBe(false);
  });

  it.each(['STARTING', 'READY', 'RUNNING', 'DRAINING'] as const)('fails from %s, and FAILED is terminal', (from) => {
    const lifecycle = new WorkerLifecycle();
    const path = { STARTING: [], READY: ['READY'], RUNNING: ['READY', 'RUNNING'], DRAINING: ['DRAINING'] }[from] as WorkerState[];
    path.forEach((state) => lifecycle.transition(state));
    expect(lifecycle.state).toBe(from);
    lifecycle.transition('FAILED');
    expect(lifecycle.ended).toBe(true);
    expect(lifecycle.acceptsWork).toBe(false);
    for (const next of ['STARTING', 'READY', 'RUNNING', 'DRAINING', 'STOPPED', 'FAILED'] as const) {
      expect(() => lifecycle.transition(next)).toThrow(IllegalLifecycleTransitionError);
    }
  });

  it('does not fail once stopped: the exit code of a finished shutdown stands', () => {
    const lifecycle = new WorkerLifecycle();
    lifecycle.transition('STOPPED');
    expect(lifecycle.ended).toBe(true);
    expect(() => lifecycle.transition('FAILED')).toThrow(/STOPPED → FAILED/);
  });
});
