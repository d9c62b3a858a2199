import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInfo, formatBuildInfo } from './build-info';

describe('buildInfo', () => {
  it('from sources: the workspace package version, no commit or build time, not bundled', () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(buildInfo()).toEqual({ version, commit: 'unknown', builtAt: null, bundled: false });
  });

  it('formats a bundle stamp and a run from sources for --version', () => {
    expect(formatBuildInfo({ version: '1.2.3', commit: '1a2b3c4-dirty', builtAt: '2026-01-02T03:04:05Z', bundled: true })).toBe('1.2.3 (commit 1a2b3c4-dirty, built 2026-01-02T03:04:05Z)');
    expect(formatBuildInfo({ version: '1.2.3', commit: 'unknown', builtAt: null, bundled: false })).toBe('1.2.3 (from sources)');
  });
});
