import { useEffect, useId, useRef } from 'react';
import { formatTime } from '../ui/format';
import { ShownOnceToken } from '../ui/shown-once-token';
import { curlExample, type CreatedApiToken } from './api-token-view';

/**
 * The new token, once: a modal <dialog> (the browser keeps focus inside; Escape closes it) with
 * the token, a copy button and a curl to try it with. Whoever renders it drops the token when
 * it closes, so the secret lives exactly as long as this dialog — never in the address or storage.
 */
export function NewApiTokenDialog({ token, onClose }: { readonly token: CreatedApiToken; readonly onClose: () => void }) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const command = curlExample(window.location.origin, token.token);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    element.showModal();
    // The first thing to do is copy it: the copy button takes the focus.
    element.querySelector<HTMLButtonElement>('.copy-button button')?.focus();
    return () => element.close();
  }, []);

  // Closed here before the parent hears of it: while a modal dialog is open the rest of the
  // page is inert, and the parent could not move the focus back to its form.
  const close = () => {
    dialog.current?.close();
    onClose();
  };

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog token-dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-warning`}
      onCancel={(event) => {
        // Escape: closed by the parent, which lets go of the token.
        event.preventDefault();
        close();
      }}
    >
      <h2 id={`${id}-title`}>API token “{token.name}” created</h2>
      <ShownOnceToken
        token={token.token}
        keepAdvice="Store it where the automation reads its secrets."
        usage={{ label: 'Try it', command }}
        warningId={`${id}-warning`}
        dismissLabel="I have copied it — close"
        onDismiss={close}
      >
        <p>
          Scopes: {token.scopes.map((scope, index) => (
            <span key={scope}>
              {index > 0 ? ', ' : null}
              <code>{scope}</code>
            </span>
          ))}
          . {token.expiresAt ? `It stops working at ${formatTime(token.expiresAt)}.` : 'It never expires.'}
          {token.scopes.includes('jobs:read') ? null : ' The curl above lists jobs, which needs jobs:read: this token will be refused there (403).'}
        </p>
      </ShownOnceToken>
    </dialog>
  );
}
