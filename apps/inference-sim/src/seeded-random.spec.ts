import { createSeededRandom } from './seeded-random';

function draw(seed: number, count: number): number[] {
  const random = createSeededRandom(seed);
  return Array.from({ length: count }, () => random());
}

describe('createSeededRandom', () => {
  it('replays the same sequence for the same seed', () => {
    expect(draw(42, 20)).toEqual(draw(42, 20));
  });

  it('gives another sequence for another seed', () => {
    expect(draw(42, 20)).not.toEqual(draw(43, 20));
  });

  it('stays within [0, 1) and spreads across it', () => {
    const values = draw(7, 1_000);

    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(values.filter((value) => value < 0.5).length).toBeGreaterThan(400);
    expect(values.filter((value) => value < 0.5).length).toBeLessThan(600);
  });
});
