import { useId, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, type Schemas } from '../api/client';
import { problemOf, unreachableProblem } from '../api/problems';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { FieldError } from '../ui/form';
import { splitFieldProblems } from './policy-document-text';
import { countOf, describeMode, describeScope, slotBody, type PolicyMode, type PolicyScope } from './policy-labels';
import type { CurrentPolicy } from './policy-parts';

type PublishResponse = Schemas['PublishResponse'];

const SCOPES: readonly { readonly value: PolicyScope; readonly label: string; readonly hint: string }[] = [
  { value: 'tenant', label: 'Tenant', hint: 'every worker of the organisation' },
  { value: 'pool', label: 'Pool', hint: 'the workers whose config lists the label under labels' },
  { value: 'repository', label: 'Repository', hint: 'jobs on one repository alias' },
];

const MODES: readonly { readonly value: PolicyMode; readonly label: string; readonly hint: string }[] = [
  { value: 'enforce', label: 'Enforce', hint: 'the rules apply to jobs' },
  { value: 'shadow', label: 'Shadow', hint: 'evaluated beside the enforced layers on real jobs; stops nothing, reports what it would have blocked' },
];

/**
 * Publishes a version at a scope (the tenant, a pool, a repository) in enforce or shadow
 * mode, after a confirmation that says what it replaces; then says the revision it made
 * and how many connected workers were sent it.
 */
export function PublishForm({
  policyId,
  policyName,
  version,
  current,
  onPublished,
}: {
  readonly policyId: string;
  readonly policyName: string;
  readonly version: number;
  readonly current: CurrentPolicy;
  readonly onPublished: () => void;
}) {
  const id = useId();
  const keyInput = useRef<HTMLInputElement>(null);
  const [scope, setScope] = useState<PolicyScope>('tenant');
  const [key, setKey] = useState('');
  const [mode, setMode] = useState<PolicyMode>('enforce');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [dialogProblem, setDialogProblem] = useState<string | null>(null);
  const [keyProblem, setKeyProblem] = useState<string | undefined>(undefined);
  const [published, setPublished] = useState<PublishResponse | null>(null);

  const trimmedKey = key.trim();
  const where = describeScope(scope, trimmedKey);
  const replaced = current.layers.find((layer) => layer.scope === scope && (scope === 'tenant' || layer.key === trimmedKey) && layer.mode === mode);

  const askToConfirm = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPublished(null);
    setKeyProblem(undefined);
    if (scope !== 'tenant' && trimmedKey === '') {
      setKeyProblem(`expected the ${scope === 'pool' ? 'pool label' : 'repository alias'} (required for this scope)`);
      keyInput.current?.focus();
      return;
    }
    setDialogProblem(null);
    setConfirming(true);
  };

  const publish = async () => {
    setBusy(true);
    setDialogProblem(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/policies/{id}/versions/{number}/publish', {
        params: { path: { id: policyId, number: version } },
        body: slotBody(scope, trimmedKey, mode),
      });
      if (data) {
        setConfirming(false);
        setPublished(data);
        onPublished();
        return;
      }
      const problem = problemOf(response, error);
      const keyProblems = response.status === 400 ? splitFieldProblems(problem.message).filter((part) => part.path === 'key') : [];
      if (keyProblems.length > 0) {
        setConfirming(false);
        setKeyProblem(keyProblems.map((part) => part.text).join('; '));
        window.setTimeout(() => keyInput.current?.focus(), 0);
      } else {
        setDialogProblem(problem.message);
      }
    } catch {
      setDialogProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Publish version {version}</h2>
      <form className="publish-form" onSubmit={askToConfirm}>
        <fieldset>
          <legend>Where</legend>
          {SCOPES.map((option) => (
            <div className="choice" key={option.value}>
              <input
                type="radio"
                id={`${id}-scope-${option.value}`}
                name={`${id}-scope`}
                value={option.value}
                checked={scope === option.value}
                onChange={() => {
                  setScope(option.value);
                  setKeyProblem(undefined);
                }}
                aria-describedby={`${id}-scope-${option.value}-hint`}
              />
              <label htmlFor={`${id}-scope-${option.value}`}>{option.label}</label>
              <span className="field-hint" id={`${id}-scope-${option.value}-hint`}>
                {option.hint}
              </span>
            </div>
          ))}
        </fieldset>
        {scope !== 'tenant' ? (
          <div className="field">
            <label htmlFor={`${id}-key`}>{scope === 'pool' ? 'Pool label' : 'Repository alias'}</label>
            <input
              id={`${id}-key`}
              ref={keyInput}
              value={key}
              onChange={(event) => setKey(event.target.value)}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={keyProblem ? true : undefined}
              aria-describedby={keyProblem ? `${id}-key-error` : undefined}
            />
            <FieldError id={`${id}-key-error`} problem={keyProblem} />
          </div>
        ) : null}
        <fieldset>
          <legend>Mode</legend>
          {MODES.map((option) => (
            <div className="choice" key={option.value}>
              <input
                type="radio"
                id={`${id}-mode-${option.value}`}
                name={`${id}-mode`}
                value={option.value}
                checked={mode === option.value}
                onChange={() => setMode(option.value)}
                aria-describedby={`${id}-mode-${option.value}-hint`}
              />
              <label htmlFor={`${id}-mode-${option.value}`}>{option.label}</label>
              <span className="field-hint" id={`${id}-mode-${option.value}-hint`}>
                {option.hint}
              </span>
            </div>
          ))}
        </fieldset>
        <div className="form-actions">
          <button type="submit">Publish version {version}…</button>
          <p role="status" className="form-success">
            {published ? (
              <>
                Published as <strong>revision {published.revision}</strong>: version {published.layer.version} is {describeMode(published.layer.mode)} for{' '}
                {describeScope(published.layer.scope, published.layer.key)}. Sent to {countOf(published.sentToConnectedWorkers, 'connected worker')}.{' '}
                <Link to="/policies/rollout">Follow the rollout</Link>
              </>
            ) : null}
          </p>
        </div>
      </form>
      <ConfirmDialog
        open={confirming}
        title={`Publish ${policyName} version ${version}?`}
        confirmLabel="Publish"
        busy={busy}
        problem={dialogProblem}
        onConfirm={() => void publish()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Version {version} becomes <strong>{describeMode(mode)}</strong> for <strong>{where}</strong>
          {replaced ? (
            <>
              , in place of {replaced.policyName} version {replaced.version}
            </>
          ) : null}
          .
        </p>
        <p>
          This makes revision {current.revision + 1}, signed and sent at once to the connected workers; the others get it when they connect. On each
          worker the stricter of every layer and its own config wins, rule by rule.
        </p>
      </ConfirmDialog>
    </section>
  );
}
