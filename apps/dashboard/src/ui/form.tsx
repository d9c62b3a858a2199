import type { ApiProblem } from '../api/problems';

/** A field's problem, under its input (which names it in aria-describedby). Marked by a sign and words, not colour alone. */
export function FieldError({ id, problem }: { readonly id: string; readonly problem: string | undefined }) {
  if (!problem) return null;
  return (
    <p className="field-error" id={id}>
      <span aria-hidden="true">⚠ </span>
      {problem}
    </p>
  );
}

/** A form's problem that belongs to no one field (a refused login, an unreachable server); announced when it appears. */
export function FormProblem({ id, problem }: { readonly id: string; readonly problem: string | null }) {
  return (
    <p className="form-problem" id={id} role="alert" hidden={!problem}>
      {problem ? (
        <>
          <span aria-hidden="true">⚠ </span>
          {asSentence(problem)}
        </>
      ) : null}
    </p>
  );
}

/** The API's messages start in lower case, to be quoted inside others; shown alone, they start a sentence. */
function asSentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Why a page's data could not be read; null shows nothing. Announced when it appears, above what is still shown. */
export function ReadProblem({ problem }: { readonly problem: ApiProblem | null }) {
  if (!problem) return null;
  return (
    <p className="form-problem" role="alert">
      {problem.message}
    </p>
  );
}
