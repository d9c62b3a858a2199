/** The time source. Injected everywhere time matters, so tests control it. */
export interface Clock {
  now(): Date;
}

/** Nest injection token for Clock. */
export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => new Date() };
