import { passwordLengthProblem } from '../people/person-view';

/** The change-password form's fields, by the names the API's 400 messages use for the first two. */
export const PASSWORD_FIELDS = ['currentPassword', 'newPassword', 'confirmPassword'] as const;
export type PasswordField = (typeof PASSWORD_FIELDS)[number];
export type PasswordChangeDraft = Readonly<Record<PasswordField, string>>;

export const EMPTY_PASSWORD_CHANGE: PasswordChangeDraft = { currentPassword: '', newPassword: '', confirmPassword: '' };

/**
 * What can be told before asking the server: an empty current password, a new one of the wrong
 * length, a confirmation that differs. Whether the current password is right only the server knows.
 */
export function localPasswordProblems(draft: PasswordChangeDraft): Partial<Record<PasswordField, string>> {
  const problems: Partial<Record<PasswordField, string>> = {};
  if (draft.currentPassword === '') problems.currentPassword = 'Enter the password you signed in with.';
  const lengthProblem = passwordLengthProblem(draft.newPassword);
  if (lengthProblem) problems.newPassword = lengthProblem;
  if (draft.confirmPassword !== draft.newPassword) problems.confirmPassword = 'This differs from the new password: type the same one twice.';
  return problems;
}
