import type { ReactNode } from 'react';
import { CopyButton } from './copy-button';

/**
 * A token the API shows once (only its hash is kept): the warning to copy it now, the token and
 * a command that uses it, each with a copy button, then the caller's own details and the button
 * that lets go of it. The caller says what the token is for and where to keep it.
 */
export function ShownOnceToken({
  token,
  keepAdvice,
  usage,
  warningId,
  dismissLabel,
  dismissClassName,
  onDismiss,
  children,
}: {
  readonly token: string;
  /** Where the token should go, after "Only its hash is kept." */
  readonly keepAdvice: string;
  /** A command with the token in it, and what to do with it. */
  readonly usage: { readonly label: string; readonly command: string };
  /** For a dialog that names the warning in aria-describedby. */
  readonly warningId?: string;
  readonly dismissLabel: string;
  readonly dismissClassName?: string;
  readonly onDismiss: () => void;
  /** What else the reader needs: until when it works, what it may do. */
  readonly children?: ReactNode;
}) {
  return (
    <>
      <p className="warning-line" id={warningId}>
        <strong>
          <span aria-hidden="true">⚠ </span>Copy it now: you will not see this token again.
        </strong>{' '}
        Only its hash is kept. {keepAdvice}
      </p>
      <dl className="secrets">
        <div>
          <dt>Token</dt>
          <dd>
            <code className="secret" data-secret="token">
              {token}
            </code>
            <CopyButton text={token} label="Copy token" />
          </dd>
        </div>
        <div>
          <dt>{usage.label}</dt>
          <dd>
            <code className="secret" data-secret="command">
              {usage.command}
            </code>
            <CopyButton text={usage.command} label="Copy command" />
          </dd>
        </div>
      </dl>
      {children}
      <div className="form-actions">
        <button type="button" className={dismissClassName} onClick={onDismiss}>
          {dismissLabel}
        </button>
      </div>
    </>
  );
}
