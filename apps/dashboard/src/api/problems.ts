/** An error answer of the control plane, as the dashboard shows it. */
export interface ApiProblem {
  /** HTTP status, or 0 when the control plane could not be reached at all. */
  readonly status: number;
  /** The stable code of the error body (INVALID_CREDENTIALS, RATE_LIMITED …), or a local one. */
  readonly code: string;
  readonly message: string;
  /** Seconds from the Retry-After header, when the answer had one. */
  readonly retryAfterSeconds: number | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problem an error answer describes: its `{ statusCode, code, message }` body when it has one. */
export function problemOf(response: Response, body: unknown): ApiProblem {
  const retryAfter = Number(response.headers.get('Retry-After'));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : null;
  if (isRecord(body) && typeof body['code'] === 'string' && typeof body['message'] === 'string') {
    return { status: response.status, code: body['code'], message: body['message'], retryAfterSeconds };
  }
  return { status: response.status, code: `HTTP_${response.status}`, message: `The control plane answered ${response.status} ${response.statusText}`.trim(), retryAfterSeconds };
}

/** A request that got no answer (network down, control plane stopped). */
export function unreachableProblem(): ApiProblem {
  return { status: 0, code: 'UNREACHABLE', message: 'The control plane could not be reached. Check the connection and try again.', retryAfterSeconds: null };
}

/** A readable wait, e.g. "45 seconds" or "3 minutes". */
export function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

/**
 * What the person reads when sign-in is refused: the server's message, and for RATE_LIMITED
 * the wait from Retry-After when the message does not already say it.
 */
export function describeLoginRefusal(problem: ApiProblem): string {
  if (problem.code === 'RATE_LIMITED' && problem.retryAfterSeconds !== null && !/try again/i.test(problem.message)) {
    return `${problem.message}. Try again in ${describeWait(problem.retryAfterSeconds)}.`;
  }
  return problem.message;
}

// Problems are joined with "; " and each starts with its field's path: `ticket.title: expected …`.
const PROBLEM_SEPARATOR = /; (?=[A-Za-z_$"][\w$."]*: )/;
const FIELD_PROBLEM = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*): (.+)$/s;

/**
 * Splits a 400 message into the problems of each named field (`repoAlias`, `ticket.title` …)
 * and the rest, so a form can show each next to its input.
 */
export function fieldProblems(message: string, knownFields: readonly string[]): { readonly byField: Readonly<Record<string, string>>; readonly other: readonly string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const part of message.split(PROBLEM_SEPARATOR)) {
    const match = FIELD_PROBLEM.exec(part);
    const field = match?.[1];
    const problem = match?.[2];
    if (field !== undefined && problem !== undefined && knownFields.includes(field)) {
      byField[field] = byField[field] ? `${byField[field]}; ${problem}` : problem;
    } else {
      other.push(part);
    }
  }
  return { byField, other };
}
