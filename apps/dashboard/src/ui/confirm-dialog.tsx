import { useEffect, useId, useRef, type ReactNode } from 'react';
import { FormProblem } from './form';

interface ConfirmDialogProps {
  readonly open: boolean;
  readonly title: string;
  /** What will happen, in words: the dialog's description. */
  readonly children: ReactNode;
  readonly confirmLabel: string;
  readonly busy?: boolean;
  /** Why the last attempt failed, shown in the dialog, which stays open for another try. */
  readonly problem?: string | null;
  onConfirm(): void;
  onCancel(): void;
}

/**
 * Asks before a change that is hard to take back. A native modal <dialog>: the browser keeps
 * focus inside and Escape cancels. Cancel has the focus first, so a hasty Enter changes
 * nothing; on closing, focus goes back to what opened the dialog.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, busy = false, problem = null, onConfirm, onCancel }: ConfirmDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (!element || !open) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    element.showModal();
    cancelButton.current?.focus();
    return () => {
      element.close();
      if (opener?.isConnected) opener.focus();
    };
  }, [open]);

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onCancel={(event) => {
        // Escape: closed by the parent, so that its state says closed as well.
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      {open ? (
        <>
          <h2 id={`${id}-title`}>{title}</h2>
          <div id={`${id}-body`} className="confirm-dialog-body">
            {children}
          </div>
          <FormProblem id={`${id}-problem`} problem={problem} />
          <div className="form-actions">
            <button type="button" disabled={busy} onClick={onConfirm}>
              {busy ? 'Working…' : confirmLabel}
            </button>
            <button type="button" ref={cancelButton} className="secondary" disabled={busy} onClick={onCancel}>
              Cancel
            </button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}
