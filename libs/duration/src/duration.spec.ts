import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['15s', 15_000],
    ['1.5s', 1_500],
    ['10m', 600_000],
    ['1h', 3_600_000],
    [' 30s ', 30_000],
  ])('parses %p as %p ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '-5s', '5 s', '5sec', '1d', 'abc', '1e3ms', '1234567890s'])('rejects %p', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
