import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, type Schemas } from '../api/client';
import { problemOf, unreachableProblem, type ApiProblem } from '../api/problems';
import { useHasScope } from '../auth/session';
import { FieldError, FormProblem } from '../ui/form';
import { settle, useApiResource, type ApiResult } from '../api/api-resource';
import { JsonEditor, type EditorProblem, type JsonEditorHandle } from './json-editor';
import { formatJson, parseJsonWithLines, type JsonNode } from './json-text';
import { noticeState } from './navigation-notice';
import { asDocumentBody, isJsonObject, placeDocumentProblems, POLICY_TEMPLATE, policyDocumentText } from './policy-document-text';

type PolicyDetail = Schemas['PolicyDetailResponse'];

/** Where the editor's text came from: a new policy (the template), or a version of a policy it adds a version to. */
type EditorTarget = { readonly kind: 'policy' } | { readonly kind: 'version'; readonly policy: PolicyDetail; readonly base: number };

/** `/policies/new`: a new policy, its version 1 written from the documentation's example. */
export function NewPolicyPage() {
  return (
    <>
      <title>New policy — Airlock</title>
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link> <span aria-hidden="true">/</span>
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>New policy</h1>
      </div>
      <WriteAccess>
        <PolicyEditorForm target={{ kind: 'policy' }} initialText={POLICY_TEMPLATE} />
      </WriteAccess>
    </>
  );
}

/** `/policies/:policyId/versions/new[?from=N]`: the next version, starting from the latest one (or version N). */
export function NewPolicyVersionPage() {
  const { policyId = '' } = useParams();
  const [searchParams] = useSearchParams();
  const requestedBase = Number(searchParams.get('from'));
  const from = Number.isInteger(requestedBase) && requestedBase > 0 ? requestedBase : null;
  const loaded = useApiResource(`${policyId}/${from ?? 'latest'}`, () => readBase(policyId, from));

  return (
    <>
      <title>{loaded.data ? `New version of ${loaded.data.policy.name} — Airlock` : 'New version — Airlock'}</title>
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link> <span aria-hidden="true">/</span>{' '}
        {loaded.data ? (
          <>
            <Link to={`/policies/${policyId}`}>{loaded.data.policy.name}</Link> <span aria-hidden="true">/</span>
          </>
        ) : null}
      </p>
      <div className="page-heading">
        <h1 tabIndex={-1}>{loaded.data ? `New version of ${loaded.data.policy.name}` : 'New version'}</h1>
      </div>
      <WriteAccess>
        {loaded.problem ? (
          <p className="form-problem" role="alert">
            {loaded.status === 404 ? 'No such policy or version in this organisation.' : loaded.problem.message}
          </p>
        ) : loaded.data ? (
          <PolicyEditorForm
            key={`${loaded.data.policy.id}/${loaded.data.base}`}
            target={{ kind: 'version', policy: loaded.data.policy, base: loaded.data.base }}
            initialText={loaded.data.text}
          />
        ) : (
          <p aria-busy="true">Loading…</p>
        )}
      </WriteAccess>
    </>
  );
}

async function readBase(policyId: string, from: number | null): Promise<ApiResult<{ policy: PolicyDetail; base: number; text: string }>> {
  const policy = await settle(api.GET('/api/v1/policies/{id}', { params: { path: { id: policyId } } }));
  if (!policy.ok) return policy;
  const base = from ?? policy.data.latestVersion;
  const version = await settle(api.GET('/api/v1/policies/{id}/versions/{number}', { params: { path: { id: policyId, number: base } } }));
  if (!version.ok) return version;
  return { ok: true, data: { policy: policy.data, base, text: policyDocumentText(version.data.document) } };
}

/** Writing takes policy:write (admins); the others are told so rather than shown a form the server would refuse. */
function WriteAccess({ children }: { readonly children: ReactNode }) {
  const canWrite = useHasScope('policy:write');
  if (canWrite) return <>{children}</>;
  return (
    <p className="form-problem" role="alert">
      Writing policies takes the policy:write scope, which admins hold. <Link to="/policies">Back to the policies</Link>
    </p>
  );
}

type CheckResult = { readonly ok: true; readonly document: Record<string, unknown>; readonly root: JsonNode } | { readonly ok: false; readonly problems: EditorProblem[] };

/** The local check before anything is sent: JSON syntax (with line and column), and an object at the top. */
function checkText(text: string): CheckResult {
  const parsed = parseJsonWithLines(text);
  if (!parsed.ok) return { ok: false, problems: [{ line: parsed.error.line, column: parsed.error.column, path: '', text: parsed.error.message }] };
  if (!isJsonObject(parsed.value)) return { ok: false, problems: [{ line: parsed.root.line, path: '', text: 'expected a JSON object: { "schemaVersion": 1, "rules": { … } }' }] };
  return { ok: true, document: parsed.value, root: parsed.root };
}

const NOT_JSON = 'The text is not JSON';
const REFUSED = 'The control plane refused the document';

/**
 * The editor of a new policy or a new version: the document in a JSON editor, with a name
 * (new policy) or a comment (new version). Syntax is checked here, with line and column;
 * the schema is checked by the control plane — the dashboard may not import libs/policy —
 * whose 400 names each wrong field by its path, which is placed at its line of the text.
 */
function PolicyEditorForm({ target, initialText }: { readonly target: EditorTarget; readonly initialText: string }) {
  const id = useId();
  const navigate = useNavigate();
  const editor = useRef<JsonEditorHandle>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [comment, setComment] = useState('');
  const [text, setText] = useState(initialText);
  const [problems, setProblems] = useState<{ readonly title: string; readonly list: readonly EditorProblem[] }>({ title: REFUSED, list: [] });
  const [byField, setByField] = useState<{ readonly name?: string; readonly comment?: string }>({});
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [formatted, setFormatted] = useState<string | null>(null);

  const showDocumentProblems = (title: string, list: readonly EditorProblem[]) => {
    setProblems({ title, list });
    // After the re-render that shows them.
    window.setTimeout(() => editor.current?.focusProblems(), 0);
  };

  const format = () => {
    setFormatted(null);
    const checked = checkText(text);
    if (!checked.ok) {
      showDocumentProblems(NOT_JSON, checked.problems);
      return;
    }
    setProblems({ title: REFUSED, list: [] });
    setText(formatJson(checked.document, 2));
    setFormatted('Laid out again.');
  };

  const refused = (root: JsonNode, problem: ApiProblem) => {
    if (problem.status !== 400 && problem.status !== 409) {
      setFormProblem(problem.message);
      return;
    }
    const { placed, other } = placeDocumentProblems(root, problem.message);
    const fields: { name?: string; comment?: string } = {};
    const rest: string[] = [];
    for (const { path, text: problemText } of other) {
      if ((path === 'name' && target.kind === 'policy') || (path === 'comment' && target.kind === 'version')) fields[path] = problemText;
      else rest.push(path ? `${path}: ${problemText}` : problemText);
    }
    setByField(fields);
    setFormProblem(rest.length > 0 ? rest.join('; ') : null);
    if (placed.length > 0) showDocumentProblems(REFUSED, placed);
    else if (fields.name) nameInput.current?.focus();
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setFormProblem(null);
    setByField({});
    setFormatted(null);
    const checked = checkText(text);
    if (!checked.ok) {
      showDocumentProblems(NOT_JSON, checked.problems);
      return;
    }
    setProblems({ title: REFUSED, list: [] });
    setBusy(true);
    try {
      if (target.kind === 'policy') {
        const { data, response, error } = await api.POST('/api/v1/policies', { body: { name: name.trim(), document: asDocumentBody(checked.document) } });
        if (data) {
          void navigate(`/policies/${data.id}`, { state: noticeState(`Created the policy ${data.name} with its version 1.`) });
          return;
        }
        refused(checked.root, problemOf(response, error));
      } else {
        const trimmed = comment.trim();
        const { data, response, error } = await api.POST('/api/v1/policies/{id}/versions', {
          params: { path: { id: target.policy.id } },
          body: { document: asDocumentBody(checked.document), ...(trimmed ? { comment: trimmed } : {}) },
        });
        if (data) {
          void navigate(`/policies/${target.policy.id}?from=${target.base}&to=${data.number}`, {
            state: noticeState(`Saved version ${data.number}. What changed from version ${target.base} is shown below.`),
          });
          return;
        }
        refused(checked.root, problemOf(response, error));
      }
    } catch {
      setFormProblem(unreachableProblem().message);
    } finally {
      setBusy(false);
    }
  };

  const next = target.kind === 'version' ? target.policy.latestVersion + 1 : 1;
  return (
    <form className="grid-form policy-editor" onSubmit={(event) => void submit(event)} aria-describedby={formProblem ? `${id}-problem` : undefined}>
      {target.kind === 'policy' ? (
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            ref={nameInput}
            value={name}
            onChange={(event) => setName(event.target.value)}
            required
            maxLength={100}
            autoComplete="off"
            aria-invalid={byField.name ? true : undefined}
            aria-describedby={byField.name ? `${id}-name-hint ${id}-name-error` : `${id}-name-hint`}
          />
          <p className="field-hint" id={`${id}-name-hint`}>
            Unique in the organisation, one line.
          </p>
          <FieldError id={`${id}-name-error`} problem={byField.name} />
        </div>
      ) : (
        <div className="field wide">
          <label htmlFor={`${id}-comment`}>Comment</label>
          <input
            id={`${id}-comment`}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            maxLength={1000}
            autoComplete="off"
            aria-invalid={byField.comment ? true : undefined}
            aria-describedby={byField.comment ? `${id}-comment-hint ${id}-comment-error` : `${id}-comment-hint`}
          />
          <p className="field-hint" id={`${id}-comment-hint`}>
            Why this version, for the people reading the history (optional). It starts from version {target.base}.
          </p>
          <FieldError id={`${id}-comment-error`} problem={byField.comment} />
        </div>
      )}
      <JsonEditor
        ref={editor}
        id={`${id}-document`}
        label="Document"
        hint={
          'JSON: schemaVersion 1, an optional description, and the rules by id (docs/policy.md lists them). The syntax is checked here; ' +
          'the control plane checks the rules when you save, and names each wrong field at its line.'
        }
        value={text}
        onChange={setText}
        problems={problems.list}
        problemsTitle={problems.title}
      />
      <FormProblem id={`${id}-problem`} problem={formProblem} />
      <div className="form-actions wide">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : target.kind === 'policy' ? 'Create policy' : `Save version ${next}`}
        </button>
        <button type="button" className="secondary" onClick={format} disabled={busy}>
          Format JSON
        </button>
        <Link to={target.kind === 'policy' ? '/policies' : `/policies/${target.policy.id}`} className="button secondary">
          Cancel
        </Link>
        <p role="status" className="form-success">
          {formatted}
        </p>
      </div>
    </form>
  );
}
