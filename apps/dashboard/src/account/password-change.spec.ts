import { localPasswordProblems } from './password-change';

describe('localPasswordProblems', () => {
  const good = { currentPassword: 'the old one', newPassword: 'a new long password', confirmPassword: 'a new long password' };

  it('finds nothing wrong with a current password and a matching new one of 12 to 256 characters', () => {
    expect(localPasswordProblems(good)).toEqual({});
  });

  it('names each field that is wrong, in words', () => {
    expect(localPasswordProblems({ currentPassword: '', newPassword: 'short', confirmPassword: 'shirt' })).toEqual({
      currentPassword: 'Enter the password you signed in with.',
      newPassword: 'At least 12 characters are needed (this has 5).',
      confirmPassword: 'This differs from the new password: type the same one twice.',
    });
    expect(localPasswordProblems({ ...good, confirmPassword: `${good.newPassword} ` })).toEqual({
      confirmPassword: 'This differs from the new password: type the same one twice.',
    });
    expect(Object.keys(localPasswordProblems({ ...good, newPassword: 'x'.repeat(257), confirmPassword: 'x'.repeat(257) }))).toEqual(['newPassword']);
  });
});
