/**
 * Reading systemd's files the way systemd does, for the unit checks: unit files (sections,
 * repeated keys, an empty assignment resetting a list), time spans, sysusers.d and
 * tmpfiles.d lines, and the output of `systemd-analyze verify` and `security`.
 */

/** One unit file: for each section, each key's assignments in order. */
export type UnitFile = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

/** Parses a unit file (systemd.syntax(7)): `[Section]`, `Key=value`, `#`/`;` comments, `\` continuations. */
export function parseUnitFile(text: string): UnitFile {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1] as string) ?? new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === undefined || equals < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** Every assignment of `key` in `section`, in order (empty when the key is absent). */
export function assignments(unit: UnitFile, section: string, key: string): readonly string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** A single-valued setting's value: its last assignment, as systemd keeps it; undefined when absent. */
export function lastValue(unit: UnitFile, section: string, key: string): string | undefined {
  return assignments(unit, section, key).at(-1);
}

/**
 * A list setting's items as systemd accumulates them: each assignment adds its
 * space-separated items, an empty assignment clears what came before.
 */
export function listValue(unit: UnitFile, section: string, key: string): readonly string[] {
  let items: string[] = [];
  for (const value of assignments(unit, section, key)) items = value === '' ? [] : [...items, ...value.split(/\s+/)];
  return items;
}

/** Whether a boolean setting is on (systemd's spellings of true). */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'yes', 'y', 'true', 't', 'on'].includes(value.toLowerCase());
}

const TIME_UNITS: Readonly<Record<string, number>> = {
  ms: 0.001, msec: 0.001, s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600, d: 86_400, day: 86_400, days: 86_400,
};

/** A systemd time span (`32min`, `1h 30s`, a bare number of seconds) in seconds (systemd.time(7)). */
export function timeSpanSeconds(text: string): number {
  const parts = text.trim().match(/\d+(?:\.\d+)?\s*[a-z]*/gi);
  if (parts === null || parts.join('').replace(/\s/g, '') !== text.replace(/\s/g, '')) throw new Error(`not a time span: ${text}`);
  return parts.reduce((total, part) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(part) as RegExpExecArray;
    const factor = TIME_UNITS[(unit as string).toLowerCase() || 's'];
    if (factor === undefined) throw new Error(`unknown time unit in ${text}`);
    return total + Number(amount) * factor;
  }, 0);
}

/** A `u` line of a sysusers.d file: `u name uid[:gid] "GECOS" home shell`. */
export interface SysusersUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** The users a sysusers.d file creates (its `u` lines). */
export function sysusersUsers(text: string): readonly SysusersUser[] {
  return text
    .split('\n')
    .map((line) => /^u\s+(\S+)\s+(\d+)(?::(\d+))?\s+"[^"]*"\s+(\S+)\s+(\S+)\s*$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, name, uid, gid, home, shell]) => ({ name: name as string, uid: Number(uid), gid: Number(gid ?? uid), home: home as string, shell: shell as string }));
}

/** A `d` line of a tmpfiles.d file. */
export interface TmpfilesDirectory {
  readonly path: string;
  readonly mode: number;
  readonly user: string;
  readonly group: string;
}

/** The directories a tmpfiles.d file creates (its `d` lines). */
export function tmpfilesDirectories(text: string): readonly TmpfilesDirectory[] {
  return text
    .split('\n')
    .map((line) => /^d\s+(\S+)\s+([0-7]{3,4})\s+(\S+)\s+(\S+)/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, path, mode, user, group]) => ({ path: path as string, mode: parseInt(mode as string, 8), user: user as string, group: group as string }));
}

/** An `EnvironmentFile=`'s assignments, commented-out examples included (`#NAME=value`). */
export function environmentFileNames(text: string): { readonly set: readonly string[]; readonly commented: readonly string[] } {
  const set: string[] = [];
  const commented: string[] = [];
  for (const line of text.split('\n')) {
    const active = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    const example = /^#([A-Z_][A-Z0-9_]*)=/.exec(line);
    if (active) set.push(active[1] as string);
    else if (example) commented.push(example[1] as string);
  }
  return { set, commented };
}

/**
 * The lines of `systemd-analyze verify` output that are about `unitName`: a warning names the
 * unit file (`/…/etc/systemd/system/<unit>:12: Unknown key …`) or the unit (`<unit>: Command …
 * is not executable`, `Unit <unit> has a bad unit file setting.`). Lines about other units
 * (the host's own, copied into the root) are not ours to fix.
 */
export function verifyFindings(output: string, unitName: string): readonly string[] {
  return output.split('\n').filter((line) => line.includes(unitName));
}

/** The overall exposure `systemd-analyze security` prints (`→ Overall exposure level for <unit>: 1.1 OK`). */
export function overallExposure(output: string, unitName: string): number | undefined {
  const match = new RegExp(`Overall exposure level for ${unitName.replace(/\./g, '\\.')}: (\\d+(?:\\.\\d+)?)`).exec(output);
  return match ? Number(match[1]) : undefined;
}

/** One check of `systemd-analyze security --json=short`. */
export interface SecurityCheck {
  readonly set: boolean;
  readonly name: string;
  readonly json_field: string;
  readonly description: string;
  readonly exposure: number | null;
}
