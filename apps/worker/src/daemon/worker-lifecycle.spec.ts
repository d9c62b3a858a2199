import { IllegalLifecycleTransitionError, WorkerLifecycle } from './worker-lifecycle';

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
});
