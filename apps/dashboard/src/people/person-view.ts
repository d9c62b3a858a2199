import type { Schemas } from '../api/client';

export type Person = Schemas['UserResponse'];

/** The control plane's password rules (docs/access.md): 12 to 256 characters. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

export type PersonStatus = 'active' | 'locked' | 'disabled';

/** Disabled outranks locked: a lock ends by itself, a disabled person stays out until enabled. */
export function personStatus(person: Pick<Person, 'disabled' | 'locked'>): PersonStatus {
  if (person.disabled) return 'disabled';
  return person.locked ? 'locked' : 'active';
}

export const PERSON_STATUS_LABEL: Readonly<Record<PersonStatus, string>> = { active: 'Active', locked: 'Locked', disabled: 'Disabled' };
export const PERSON_STATUS_TONE: Readonly<Record<PersonStatus, 'good' | 'pending' | 'neutral'>> = { active: 'good', locked: 'pending', disabled: 'neutral' };
export const PERSON_STATUS_NOTE: Readonly<Record<PersonStatus, string | null>> = {
  active: null,
  locked: 'too many wrong passwords; unlocks by itself',
  disabled: 'cannot sign in',
};

/** How a person signs in: a password of their own, or only through the identity provider. */
export function signInMethod(person: Pick<Person, 'passwordLogin'>): string {
  return person.passwordLogin ? 'Password' : 'Single sign-on only';
}

/**
 * Password length as the server counts it (class-validator's Length): in code points, so an
 * emoji is one character, not two UTF-16 units.
 */
export function passwordLength(password: string): number {
  return [...password].length;
}

/** Why a new password is refused before it is sent, or null when it has an acceptable length. */
export function passwordLengthProblem(password: string): string | null {
  const length = passwordLength(password);
  if (length < MIN_PASSWORD_LENGTH) return `At least ${MIN_PASSWORD_LENGTH} characters are needed (this has ${length}).`;
  if (length > MAX_PASSWORD_LENGTH) return `At most ${MAX_PASSWORD_LENGTH} characters are allowed (this has ${length}).`;
  return null;
}

// No 0/O, 1/l/I: a first password is often read aloud or typed from another screen.
const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const GENERATED_PASSWORD_LENGTH = 20;

/**
 * A random first password (20 characters of 57: about 116 bits) from `randomValues`, which
 * is crypto.getRandomValues in the browser. Rejection sampling keeps every character equally likely.
 */
export function generatePassword(randomValues: (array: Uint8Array) => Uint8Array = (array) => crypto.getRandomValues(array)): string {
  const limit = 256 - (256 % PASSWORD_ALPHABET.length);
  let password = '';
  while (password.length < GENERATED_PASSWORD_LENGTH) {
    for (const byte of randomValues(new Uint8Array(GENERATED_PASSWORD_LENGTH * 2))) {
      if (byte < limit && password.length < GENERATED_PASSWORD_LENGTH) password += PASSWORD_ALPHABET.charAt(byte % PASSWORD_ALPHABET.length);
    }
  }
  return password;
}
