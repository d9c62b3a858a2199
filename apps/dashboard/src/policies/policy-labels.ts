import type { Schemas } from '../api/client';
import { compactJson } from './json-text';

export type PolicyScope = Schemas['PolicySlotDto']['scope'];
export type PolicyMode = Schemas['PolicySlotDto']['mode'];

/** Where a layer applies, as the person reads it: "the whole tenant", "pool core", "repository ledger". */
export function describeScope(scope: PolicyScope, key: string | null | undefined): string {
  if (scope === 'tenant') return 'the whole tenant';
  return `${scope === 'pool' ? 'pool' : 'repository'} ${key ?? '?'}`;
}

/** The mode with what it does, for a sentence: "enforced", "in shadow (stops nothing)". */
export function describeMode(mode: PolicyMode): string {
  return mode === 'enforce' ? 'enforced' : 'in shadow (evaluated, stops nothing)';
}

/** The request body naming a layer: the tenant scope has no key. */
export function slotBody(scope: PolicyScope, key: string | null | undefined, mode: PolicyMode): Schemas['PolicySlotDto'] {
  return scope === 'tenant' ? { scope, mode } : { scope, key: key ?? '', mode };
}

export type ChangeKind = Schemas['PolicyChangeResponse']['change'];

/** Each kind of change with a sign and a word, so the diff does not rest on colour. */
export const CHANGE_MARKS: Readonly<Record<ChangeKind, { readonly sign: string; readonly word: string }>> = {
  added: { sign: '+', word: 'Added' },
  removed: { sign: '−', word: 'Removed' },
  changed: { sign: '~', word: 'Changed' },
};

/** A value of a diff, one line of JSON; absent when the side has none. */
export function diffValue(value: unknown): string {
  return value === undefined ? '' : compactJson(value);
}

/** "1 worker", "3 workers". */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
