import { comparedVersions } from './compare-query';
import { countOf, describeScope, diffValue, slotBody } from './policy-labels';

describe('the versions a policy page compares', () => {
  it('defaults to the latest version and the one before it', () => {
    expect(comparedVersions(new URLSearchParams(), 5)).toEqual({ from: 4, to: 5 });
  });

  it('takes any two versions from the address, in either order', () => {
    expect(comparedVersions(new URLSearchParams('from=5&to=1'), 5)).toEqual({ from: 5, to: 1 });
  });

  it('ignores numbers the policy does not have, rather than asking for a 404', () => {
    expect(comparedVersions(new URLSearchParams('from=0&to=9'), 3)).toEqual({ from: 2, to: 3 });
    expect(comparedVersions(new URLSearchParams('from=x&to=1.5'), 3)).toEqual({ from: 2, to: 3 });
  });

  it('has nothing to compare with one version', () => {
    expect(comparedVersions(new URLSearchParams('from=1&to=1'), 1)).toBeNull();
  });
});

describe('layers in words and on the wire', () => {
  it('sends no key for the tenant scope, and the key for the others', () => {
    expect(slotBody('tenant', null, 'enforce')).toEqual({ scope: 'tenant', mode: 'enforce' });
    expect(slotBody('pool', 'core', 'shadow')).toEqual({ scope: 'pool', key: 'core', mode: 'shadow' });
  });

  it('names scopes, counts and diff values for reading', () => {
    expect(describeScope('tenant', null)).toBe('the whole tenant');
    expect(describeScope('repository', 'ledger')).toBe('repository ledger');
    expect(countOf(1, 'worker')).toBe('1 worker');
    expect(countOf(0, 'worker')).toBe('0 workers');
    expect(diffValue({ max: 10 })).toBe('{ "max": 10 }');
    expect(diffValue(undefined)).toBe('');
  });
});
