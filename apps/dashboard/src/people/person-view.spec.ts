import { generatePassword, passwordLengthProblem, personStatus, signInMethod } from './person-view';

describe('personStatus', () => {
  it('says disabled before locked, and active when neither', () => {
    expect(personStatus({ disabled: true, locked: true })).toBe('disabled');
    expect(personStatus({ disabled: false, locked: true })).toBe('locked');
    expect(personStatus({ disabled: false, locked: false })).toBe('active');
  });
});

describe('signInMethod', () => {
  it('names a password, or single sign-on alone for a person without one', () => {
    expect(signInMethod({ passwordLogin: true })).toBe('Password');
    expect(signInMethod({ passwordLogin: false })).toBe('Single sign-on only');
  });
});

describe('passwordLengthProblem', () => {
  it('accepts 12 to 256 characters, counted as the server counts them (code points)', () => {
    expect(passwordLengthProblem('a'.repeat(12))).toBeNull();
    expect(passwordLengthProblem('a'.repeat(256))).toBeNull();
    expect(passwordLengthProblem('a'.repeat(11))).toBe('At least 12 characters are needed (this has 11).');
    expect(passwordLengthProblem('a'.repeat(257))).toBe('At most 256 characters are allowed (this has 257).');
    // Six emoji are twelve UTF-16 units but six characters.
    expect(passwordLengthProblem('🔑'.repeat(6))).toBe('At least 12 characters are needed (this has 6).');
  });
});

describe('generatePassword', () => {
  it('makes 20 characters of an alphabet without look-alikes, each byte past the even range skipped', () => {
    const password = generatePassword(() => crypto.getRandomValues(new Uint8Array(40)));
    expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
    expect(passwordLengthProblem(password)).toBeNull();

    // 57 letters: bytes 228..255 would favour the first letters, so they are drawn again.
    let calls = 0;
    const skewed = generatePassword((array) => {
      calls += 1;
      return array.fill(calls === 1 ? 255 : 0);
    });
    expect(calls).toBe(2);
    expect(skewed).toBe('a'.repeat(20));
  });
});
