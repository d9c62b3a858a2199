import { isEmail } from 'class-validator';
import { MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH, normalizeEmail } from '../../people/person-fields';
import type { OidcClaims } from './oidc-client';

/** The longest issuer or subject kept; OpenID Connect bounds the subject at 255 ASCII characters. */
const MAX_IDENTIFIER_LENGTH = 255;
const CONTROL_CHARACTERS = /\p{Cc}/gu;
/** Half of a surrogate pair alone: not text, and refused everywhere a name is stored. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Who signed in, checked: the identity to match by, and an email only when the provider verified it. */
export interface OidcSignIn {
  readonly issuer: string;
  readonly subject: string;
  /** Normalised like every email here (trimmed, lowercased); null unless the provider says email_verified: true. */
  readonly verifiedEmail: string | null;
  /** A display name for an account made on first sign-in: the `name` claim, else the email's local part. */
  readonly displayName: string;
}

/** The claims as the control plane uses them, or a reason they cannot be (never quoting a claim's value). */
export type ParsedSignIn = { readonly ok: true; readonly signIn: OidcSignIn } | { readonly ok: false; readonly reason: string };

/**
 * Checks the identity provider's claims at the boundary: issuer and subject non-empty and
 * bounded; the email used only when `email_verified` is the boolean true (a string "true" is
 * not), and only when it is a well-formed address within the length every email here has.
 */
export function parseOidcClaims(claims: OidcClaims): ParsedSignIn {
  if (!isIdentifier(claims.issuer)) return { ok: false, reason: 'the iss claim is empty or longer than 255 characters' };
  if (!isIdentifier(claims.subject)) return { ok: false, reason: 'the sub claim is empty or longer than 255 characters' };
  const email = normalizeEmail(claims.email);
  const verifiedEmail = claims.emailVerified === true && typeof email === 'string' && email.length <= MAX_EMAIL_LENGTH && isEmail(email) ? email : null;
  return { ok: true, signIn: { issuer: claims.issuer, subject: claims.subject, verifiedEmail, displayName: displayNameOf(claims.name, verifiedEmail) } };
}

function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_IDENTIFIER_LENGTH;
}

/** One line of at most MAX_DISPLAY_NAME_LENGTH characters, as a person's name is everywhere else. */
function displayNameOf(name: unknown, email: string | null): string {
  const fromName = typeof name === 'string' ? [...name.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROL_CHARACTERS, ' ').trim()].slice(0, MAX_DISPLAY_NAME_LENGTH).join('').trim() : '';
  if (fromName !== '') return fromName;
  const localPart = email?.split('@')[0] ?? '';
  return [...localPart].slice(0, MAX_DISPLAY_NAME_LENGTH).join('') || 'unnamed';
}
