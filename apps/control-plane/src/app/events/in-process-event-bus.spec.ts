import { Logger } from '@nestjs/common';
import type { DashboardEvent } from './event-bus';
import { EventListenerLimitError } from './event-listener-limit.error';
import { InProcessEventBus, MAX_LISTENERS_PER_TENANT } from './in-process-event-bus';

const jobChanged = (tenantId: string, jobId = 'job-1'): DashboardEvent => ({ type: 'job.changed', tenantId, jobId, status: 'QUEUED', at: '2026-12-17T10:00:00.000Z' });

describe('InProcessEventBus', () => {
  // A failing listener is logged; the assertions are on who still hears the event.
  beforeAll(() => Logger.overrideLogger(false));

  it('delivers an event to every listener of its tenant, and to no other tenant', () => {
    const bus = new InProcessEventBus();
    const heardByA: DashboardEvent[] = [];
    const heardByAlsoA: DashboardEvent[] = [];
    const heardByB: DashboardEvent[] = [];
    bus.subscribe('tenant-a', (event) => heardByA.push(event));
    bus.subscribe('tenant-a', (event) => heardByAlsoA.push(event));
    bus.subscribe('tenant-b', (event) => heardByB.push(event));

    bus.publish(jobChanged('tenant-a'));

    expect(heardByA).toEqual([jobChanged('tenant-a')]);
    expect(heardByAlsoA).toEqual([jobChanged('tenant-a')]);
    expect(heardByB).toEqual([]);
  });

  it('keeps calling the other listeners when one throws', () => {
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    bus.subscribe('tenant-a', () => {
      throw new Error('listener bug');
    });
    bus.subscribe('tenant-a', (event) => heard.push(event.type));

    expect(() => bus.publish(jobChanged('tenant-a'))).not.toThrow();
    expect(heard).toEqual(['job.changed']);
  });

  it('stops calling a listener once it unsubscribed, even from inside a delivery', () => {
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    const unsubscribeFirst = bus.subscribe('tenant-a', (event) => {
      heard.push(`first:${event.type}`);
      unsubscribeFirst();
    });
    bus.subscribe('tenant-a', (event) => heard.push(`second:${event.type}`));

    bus.publish(jobChanged('tenant-a'));
    bus.publish(jobChanged('tenant-a'));

    expect(heard).toEqual(['first:job.changed', 'second:job.changed', 'second:job.changed']);
    expect(bus.listenerCount('tenant-a')).toBe(1);
  });

  it('counts the same function subscribed twice as two subscriptions, each undone once', () => {
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    const listener = (event: DashboardEvent) => heard.push(event.type);
    const first = bus.subscribe('tenant-a', listener);
    bus.subscribe('tenant-a', listener);
    first();
    first();
    bus.publish(jobChanged('tenant-a'));
    expect(heard).toEqual(['job.changed']);
  });

  it(`refuses the tenant's listener number ${MAX_LISTENERS_PER_TENANT + 1}, and takes one again once another left`, () => {
    const bus = new InProcessEventBus();
    const unsubscribers = Array.from({ length: MAX_LISTENERS_PER_TENANT }, () => bus.subscribe('tenant-a', () => undefined));

    expect(() => bus.subscribe('tenant-a', () => undefined)).toThrow(EventListenerLimitError);
    expect(bus.listenerCount('tenant-a')).toBe(MAX_LISTENERS_PER_TENANT);
    // Another tenant is not affected.
    expect(() => bus.subscribe('tenant-b', () => undefined)).not.toThrow();

    unsubscribers[0]!();
    expect(() => bus.subscribe('tenant-a', () => undefined)).not.toThrow();
  });
});
