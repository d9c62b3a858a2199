import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import { settle, useApiResource } from '../api/api-resource';
import { api } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem } from '../api/problems';
import { useHasScope, useSignedInSession, type Scope } from '../auth/session';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { FieldError, FormProblem, ReadProblem } from '../ui/form';
import { formatTime } from '../ui/format';
import { RelativeTime, useNow } from '../ui/relative-time';
import { TableRows } from '../ui/table-rows';
import { inScopeOrder, SCOPE_DESCRIPTION } from './access-labels';
import {
  apiTokenState,
  DEFAULT_EXPIRY_DAYS,
  EXPIRY_PRESET_DAYS,
  MAX_EXPIRY_DAYS,
  MIN_EXPIRY_DAYS,
  parseExpiryDays,
  withoutSecret,
  type ApiToken,
  type CreatedApiToken,
} from './api-token-view';
import { NewApiTokenDialog } from './new-api-token-dialog';
import { ApiTokenStateBadge, NeedsPeopleRead, PeopleNav } from './people-parts';

const DAY_MS = 86_400_000;

/** `/people/api-tokens`: the tokens automation uses; admins (people:write) create and revoke them. */
export function ApiTokensPage() {
  const canRead = useHasScope('people:read');
  return canRead ? <ApiTokens /> : <NeedsPeopleRead title="API tokens" />;
}

function ApiTokens() {
  const canWrite = useHasScope('people:write');
  const tokens = useApiResource('api-tokens', () => settle(api.GET('/api/v1/api-tokens')));
  const [outcome, setOutcome] = useState<string | null>(null);

  return (
    <>
      <title>API tokens — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>API tokens</h1>
      </div>
      <PeopleNav />
      <p className="prose">
        Automation calls the REST API with a token: <code>Authorization: Bearer alt_…</code>. A token holds the scopes it was created with (never one
        its creator did not hold) until it expires or is revoked. Only its hash is kept, so it is shown once, when created.
      </p>
      {canWrite ? (
        <CreateApiTokenForm
          onCreated={(token) => {
            setOutcome(null);
            tokens.update((shown) => [token, ...shown]);
          }}
        />
      ) : null}
      <ReadProblem problem={tokens.problem} />
      <p role="status" className="form-success action-outcome">
        {outcome}
      </p>
      <ApiTokensTable
        tokens={tokens.data}
        awaitingFirstAnswer={tokens.awaitingFirstAnswer}
        canWrite={canWrite}
        onRevoked={(revoked) => {
          setOutcome(`API token “${revoked.name}” is revoked: requests with it are refused from now on.`);
          tokens.update((shown) => shown.map((token) => (token.id === revoked.id ? revoked : token)));
        }}
      />
    </>
  );
}

const CREATE_FIELDS = ['name', 'scopes', 'expiresInDays'] as const;

/**
 * Name, scopes (only those this session holds: the server refuses others with SCOPE_NOT_HELD)
 * and days to expiry. The created token goes to the dialog, which alone holds it, and only
 * while it is open; the list gets the token without its secret.
 */
function CreateApiTokenForm({ onCreated }: { readonly onCreated: (token: ApiToken) => void }) {
  const id = useId();
  const heldScopes = inScopeOrder(useSignedInSession().scopes);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ReadonlySet<Scope>>(new Set());
  const [daysText, setDaysText] = useState(String(DEFAULT_EXPIRY_DAYS));
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const now = useNow(60_000);
  const days = parseExpiryDays(daysText);

  const toggleScope = (scope: Scope, held: boolean) =>
    setScopes((current) => {
      const next = new Set(current);
      if (held) next.add(scope);
      else next.delete(scope);
      return next;
    });

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setByField({});
    setProblem(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/api-tokens', {
        // An unreadable number goes as it is: the server's message names the field and the range.
        body: { name, scopes: inScopeOrder([...scopes]), expiresInDays: days ?? Number(daysText) },
      });
      if (data) {
        setName('');
        setScopes(new Set());
        setDaysText(String(DEFAULT_EXPIRY_DAYS));
        setCreated(data);
        onCreated(withoutSecret(data));
        return;
      }
      // 400 names each field; 403 SCOPE_NOT_HELD names `scopes`.
      const split = fieldProblems(problemOf(response, error).message, CREATE_FIELDS);
      setByField(split.byField);
      setProblem(split.other.length > 0 ? split.other.join('; ') : null);
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>New API token</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            ref={nameInput}
            type="text"
            autoComplete="off"
            required
            maxLength={100}
            value={name}
            onChange={(event) => setName(event.target.value)}
            aria-invalid={byField['name'] ? true : undefined}
            aria-describedby={`${id}-name-hint${byField['name'] ? ` ${id}-name-error` : ''}`}
          />
          <p className="field-hint" id={`${id}-name-hint`}>
            What it is for, on one line: <q>nightly triage</q>, <q>CI reporting</q>.
          </p>
          <FieldError id={`${id}-name-error`} problem={byField['name']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-days`}>Expires in (days)</label>
          <input
            id={`${id}-days`}
            type="number"
            inputMode="numeric"
            required
            min={MIN_EXPIRY_DAYS}
            max={MAX_EXPIRY_DAYS}
            step={1}
            value={daysText}
            onChange={(event) => setDaysText(event.target.value)}
            aria-invalid={byField['expiresInDays'] ? true : undefined}
            aria-describedby={`${id}-days-hint${byField['expiresInDays'] ? ` ${id}-days-error` : ''}`}
          />
          <div className="presets" role="group" aria-label="Expiry presets">
            {EXPIRY_PRESET_DAYS.map((preset) => (
              <button key={preset} type="button" className="secondary compact" aria-pressed={days === preset} onClick={() => setDaysText(String(preset))}>
                {preset} days
              </button>
            ))}
          </div>
          <p className="field-hint" id={`${id}-days-hint`}>
            {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days.
            {days !== null ? ` It stops working on ${formatTime(new Date(now + days * DAY_MS).toISOString()).slice(0, 10)}.` : ''}
          </p>
          <FieldError id={`${id}-days-error`} problem={byField['expiresInDays']} />
        </div>
        <fieldset className="wide scope-choices" aria-describedby={`${id}-scopes-hint${byField['scopes'] ? ` ${id}-scopes-error` : ''}`}>
          <legend>Scopes</legend>
          <p className="field-hint" id={`${id}-scopes-hint`}>
            Give it only what its job needs. You can grant the scopes you hold yourself.
          </p>
          <ul className="plain-list scope-list">
            {heldScopes.map((scope) => (
              <li key={scope} className="choice">
                <input id={`${id}-scope-${scope}`} type="checkbox" checked={scopes.has(scope)} onChange={(event) => toggleScope(scope, event.target.checked)} />
                <label htmlFor={`${id}-scope-${scope}`}>
                  <code>{scope}</code> <span className="choice-note">{SCOPE_DESCRIPTION[scope]}</span>
                </label>
              </li>
            ))}
          </ul>
          <FieldError id={`${id}-scopes-error`} problem={byField['scopes']} />
        </fieldset>
        <FormProblem id={`${id}-problem`} problem={problem} />
        <div className="form-actions wide">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create API token'}
          </button>
        </div>
      </form>
      {created ? (
        <NewApiTokenDialog
          token={created}
          onClose={() => {
            // The secret leaves React state with the dialog.
            setCreated(null);
            nameInput.current?.focus();
          }}
        />
      ) : null}
    </section>
  );
}

function ApiTokensTable({
  tokens,
  awaitingFirstAnswer,
  canWrite,
  onRevoked,
}: {
  readonly tokens: readonly ApiToken[] | null;
  readonly awaitingFirstAnswer: boolean;
  readonly canWrite: boolean;
  readonly onRevoked: (token: ApiToken) => void;
}) {
  const captionId = useId();
  const now = useNow();
  const columns = canWrite ? 9 : 8;
  return (
    <div className="table-scroll">
      <table className="data-table api-tokens-table" aria-labelledby={captionId} aria-busy={awaitingFirstAnswer}>
        <caption id={captionId} className="visually-hidden">
          API tokens, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Scopes</th>
            <th scope="col">Created by</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Revoked</th>
            {canWrite ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          <TableRows rows={tokens} awaitingFirstAnswer={awaitingFirstAnswer} columns={columns} empty="No API token yet.">
            {(rows) =>
              rows.map((token) => {
                const tokenState = apiTokenState(token, now);
                return (
                  <tr key={token.id} data-token-id={token.id} className={tokenState === 'active' ? undefined : 'revoked-row'}>
                    <th scope="row">{token.name}</th>
                    <td>
                      <ApiTokenStateBadge state={tokenState} />
                    </td>
                    <td>
                      <ul className="chips" aria-label={`Scopes of ${token.name}`}>
                        {inScopeOrder(token.scopes).map((scope) => (
                          <li key={scope} className="chip mono" title={SCOPE_DESCRIPTION[scope]}>
                            {scope}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>{token.createdByName ?? <span className="muted">nobody: the bootstrap token</span>}</td>
                    <td>
                      <RelativeTime iso={token.createdAt} now={now} />
                    </td>
                    <td>
                      {token.expiresAt === null ? (
                        <span className="muted">never</span>
                      ) : (
                        <>
                          <RelativeTime iso={token.expiresAt} now={now} />
                          {tokenState === 'expired' ? (
                            <span className="flag cell-note">
                              <span aria-hidden="true">⚠ </span>expired
                            </span>
                          ) : null}
                        </>
                      )}
                    </td>
                    <td>{token.lastUsedAt ? <RelativeTime iso={token.lastUsedAt} now={now} /> : <span className="muted">never</span>}</td>
                    <td>{token.revokedAt ? <span className="nowrap">{formatTime(token.revokedAt)}</span> : <span className="muted">—</span>}</td>
                    {canWrite ? <td>{token.revokedAt === null ? <RevokeApiTokenButton token={token} onRevoked={onRevoked} /> : null}</td> : null}
                  </tr>
                );
              })
            }
          </TableRows>
        </tbody>
      </table>
    </div>
  );
}

function RevokeApiTokenButton({ token, onRevoked }: { readonly token: ApiToken; readonly onRevoked: (token: ApiToken) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const revoke = useCallback(async () => {
    setBusy(true);
    try {
      const { data, response, error } = await api.POST('/api/v1/api-tokens/{id}/revoke', { params: { path: { id: token.id } } });
      if (data) {
        setConfirming(false);
        onRevoked(data);
      } else {
        setProblem(problemOf(response, error).message);
      }
    } catch {
      setProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  }, [token.id, onRevoked]);

  return (
    <>
      <button
        type="button"
        className="danger compact"
        onClick={() => {
          setProblem(null);
          setConfirming(true);
        }}
      >
        Revoke<span className="visually-hidden"> API token {token.name}</span>
      </button>
      <ConfirmDialog
        open={confirming}
        title={`Revoke API token “${token.name}”?`}
        confirmLabel="Revoke token"
        busy={busy}
        problem={problem}
        onConfirm={() => void revoke()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Every request with this token is refused from now on (401), whatever its scopes. This cannot be undone: create a new token if the automation
          still needs one.
        </p>
      </ConfirmDialog>
    </>
  );
}
