import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { settle, useApiResource } from '../api/api-resource';
import { api, type Schemas } from '../api/client';
import { fieldProblems, problemOf, unreachableProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { useLiveEvent } from '../live/live-events';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { FieldError, FormProblem, ReadProblem } from '../ui/form';
import { formatTime, shortId } from '../ui/format';
import { RelativeTime, useNow } from '../ui/relative-time';
import { ShownOnceToken } from '../ui/shown-once-token';
import { TableRows } from '../ui/table-rows';
import {
  createTokenBody,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  enrollCommand,
  isTokenLifetime,
  TOKEN_LIFETIMES,
  TOKEN_STATE_LABEL,
  TOKEN_STATE_TONE,
  type EnrollmentToken,
} from './enrollment';
import { FleetNav } from './fleet-parts';

type CreatedToken = Schemas['EnrollmentTokenResponse'];

// Tokens expire without an event: their state is read again now and then.
const EXPIRY_REFRESH_MS = 30_000;

/** `/fleet/enrollment-tokens`: the one-time tokens that enrol workers — create, list, revoke unused ones. */
export function EnrollmentTokensPage() {
  const canWrite = useHasScope('fleet:write');
  const tokens = useApiResource('enrollment-tokens', () => settle(api.GET('/api/v1/enrollment-tokens')));
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const { reload } = tokens;

  useEffect(() => {
    const timer = window.setInterval(reload, EXPIRY_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
  // A worker enrolled: one token is now used.
  useLiveEvent('worker.changed', (event) => event.change === 'ENROLLED' && reload());
  useLiveEvent('resync', reload);

  return (
    <>
      <title>Enrollment tokens — Airlock</title>
      <div className="page-heading">
        <h1 tabIndex={-1}>Enrollment tokens</h1>
      </div>
      <FleetNav />
      <p className="prose">
        A worker joins the fleet when its operator runs <code>airlock-worker enroll --config worker.yml --token aet_…</code> on its host, exchanging a
        one-time enrollment token for the worker&apos;s own identity. A token enrols one worker, and only until it expires.
      </p>
      {canWrite ? (
        <CreateTokenForm
          onCreated={(token) => {
            setCreated(token);
            setOutcome(null);
            reload();
          }}
        />
      ) : null}
      {created ? <NewTokenPanel token={created} onDismiss={() => setCreated(null)} /> : null}
      <ReadProblem problem={tokens.problem} />
      <p role="status" className="form-success action-outcome">
        {outcome}
      </p>
      <TokensTable
        tokens={tokens.data}
        awaitingFirstAnswer={tokens.awaitingFirstAnswer}
        canWrite={canWrite}
        onRevoked={(revoked) => {
          setOutcome(`Enrollment token ${shortId(revoked.id)} is revoked: it enrols nothing from now on.`);
          tokens.update((shown) => shown.map((token) => (token.id === revoked.id ? revoked : token)));
        }}
      />
    </>
  );
}

const FIELDS = ['ttlSeconds', 'pool'] as const;

function CreateTokenForm({ onCreated }: { readonly onCreated: (token: CreatedToken) => void }) {
  const id = useId();
  const [ttlSeconds, setTtlSeconds] = useState<number>(DEFAULT_TOKEN_LIFETIME_SECONDS);
  const [pool, setPool] = useState('');
  const [busy, setBusy] = useState(false);
  const [byField, setByField] = useState<Readonly<Record<string, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setByField({});
    setProblem(null);
    try {
      const { data, response, error } = await api.POST('/api/v1/enrollment-tokens', { body: createTokenBody(ttlSeconds, pool) });
      if (data) {
        setPool('');
        onCreated(data);
        return;
      }
      const refused = problemOf(response, error);
      const split = response.status === 400 ? fieldProblems(refused.message, FIELDS) : { byField: {}, other: [refused.message] };
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
      <h2 id={`${id}-heading`}>New enrollment token</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)} aria-describedby={problem ? `${id}-problem` : undefined}>
        <div className="field">
          <label htmlFor={`${id}-ttl`}>Expires after</label>
          <select
            id={`${id}-ttl`}
            value={ttlSeconds}
            onChange={(event) => setTtlSeconds(isTokenLifetime(Number(event.target.value)) ? Number(event.target.value) : DEFAULT_TOKEN_LIFETIME_SECONDS)}
            aria-invalid={byField['ttlSeconds'] ? true : undefined}
            aria-describedby={byField['ttlSeconds'] ? `${id}-ttl-error` : undefined}
          >
            {TOKEN_LIFETIMES.map((lifetime) => (
              <option key={lifetime.seconds} value={lifetime.seconds}>
                {lifetime.label}
              </option>
            ))}
          </select>
          <FieldError id={`${id}-ttl-error`} problem={byField['ttlSeconds']} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-pool`}>Pool (optional)</label>
          <input
            id={`${id}-pool`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={pool}
            onChange={(event) => setPool(event.target.value)}
            aria-invalid={byField['pool'] ? true : undefined}
            aria-describedby={`${id}-pool-hint${byField['pool'] ? ` ${id}-pool-error` : ''}`}
          />
          <p className="field-hint" id={`${id}-pool-hint`}>
            The pool the worker joins, for pool-scoped policy: lower-case letters, digits, dots, underscores and hyphens. Name it by purpose (
            <code>gpu</code>), not after a host.
          </p>
          <FieldError id={`${id}-pool-error`} problem={byField['pool']} />
        </div>
        <FormProblem id={`${id}-problem`} problem={problem} />
        <div className="form-actions wide">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create enrollment token'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** The token, once: the API never shows it again (only its hash is kept). */
function NewTokenPanel({ token, onDismiss }: { readonly token: CreatedToken; readonly onDismiss: () => void }) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const command = enrollCommand(token.token);
  // The panel appears after a submit: take the keyboard and screen reader to it.
  useEffect(() => heading.current?.focus(), [token.id]);
  return (
    <section className="panel new-token" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`} ref={heading} tabIndex={-1}>
        Enrollment token {shortId(token.id)} created
      </h2>
      <ShownOnceToken
        token={token.token}
        keepAdvice="Hand it to the worker's operator over a channel you trust."
        usage={{ label: "On the worker's host, run", command }}
        dismissLabel="I have copied it — hide the token"
        dismissClassName="secondary"
        onDismiss={onDismiss}
      >
        <p>
          Usable until {formatTime(token.expiresAt)}.
          {token.pool ? (
            <>
              {' '}
              The worker joins pool <code>{token.pool}</code> and applies that pool&apos;s policy layers; only enrolling it anew moves it to
              another pool.
            </>
          ) : null}
        </p>
      </ShownOnceToken>
    </section>
  );
}

function TokensTable({
  tokens,
  awaitingFirstAnswer,
  canWrite,
  onRevoked,
}: {
  readonly tokens: readonly EnrollmentToken[] | null;
  readonly awaitingFirstAnswer: boolean;
  readonly canWrite: boolean;
  readonly onRevoked: (token: EnrollmentToken) => void;
}) {
  const captionId = useId();
  const now = useNow();
  const columns = canWrite ? 7 : 6;
  return (
    <div className="table-scroll">
      <table className="data-table tokens-table" aria-labelledby={captionId} aria-busy={awaitingFirstAnswer}>
        <caption id={captionId} className="visually-hidden">
          Enrollment tokens, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">State</th>
            <th scope="col">Pool</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Enrolled worker</th>
            {canWrite ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          <TableRows rows={tokens} awaitingFirstAnswer={awaitingFirstAnswer} columns={columns} empty="No enrollment token yet.">
            {(rows) =>
              rows.map((token) => (
                <tr key={token.id} data-token-id={token.id}>
                  <th scope="row" className="mono" title={token.id}>
                    {shortId(token.id)}
                  </th>
                  <td>
                    <span className={`status status-${TOKEN_STATE_TONE[token.state]}`} data-token-state={token.state}>
                      {TOKEN_STATE_LABEL[token.state]}
                    </span>
                  </td>
                  <td className="mono">{token.pool ?? <span className="muted">none</span>}</td>
                  <td>
                    <span className="nowrap">{formatTime(token.createdAt)}</span>
                    <span className="muted cell-note">by {token.createdByName ?? 'an earlier record'}</span>
                  </td>
                  <td>
                    {token.state === 'ACTIVE' || token.state === 'EXPIRED' ? (
                      <RelativeTime iso={token.expiresAt} now={now} />
                    ) : (
                      <span className="muted nowrap">{formatTime(token.expiresAt)}</span>
                    )}
                  </td>
                  <td>
                    {token.workerId ? (
                      <>
                        <Link to={`/fleet/workers/${token.workerId}`} className="mono">
                          {shortId(token.workerId)}
                        </Link>
                        <span className="muted cell-note">{formatTime(token.usedAt)}</span>
                      </>
                    ) : token.revokedAt ? (
                      <span className="muted">revoked {formatTime(token.revokedAt)}</span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  {canWrite ? <td>{token.state === 'ACTIVE' ? <RevokeTokenButton token={token} onRevoked={onRevoked} /> : null}</td> : null}
                </tr>
              ))
            }
          </TableRows>
        </tbody>
      </table>
    </div>
  );
}

function RevokeTokenButton({ token, onRevoked }: { readonly token: EnrollmentToken; readonly onRevoked: (token: EnrollmentToken) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const name = shortId(token.id);

  const revoke = async () => {
    setBusy(true);
    try {
      const { data, response, error } = await api.POST('/api/v1/enrollment-tokens/{id}/revoke', { params: { path: { id: token.id } } });
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
  };

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
        Revoke<span className="visually-hidden"> token {name}</span>
      </button>
      <ConfirmDialog
        open={confirming}
        title={`Revoke enrollment token ${name}?`}
        confirmLabel="Revoke token"
        busy={busy}
        problem={problem}
        onConfirm={() => void revoke()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          From now on the token enrols nothing, as if it had expired. A worker already enrolled is not affected. This cannot be undone: create a new
          token if one is needed.
        </p>
      </ConfirmDialog>
    </>
  );
}
