import { NavLink } from 'react-router';
import { API_TOKEN_STATE_LABEL, API_TOKEN_STATE_TONE, type ApiTokenState } from './api-token-view';
import { PERSON_STATUS_LABEL, PERSON_STATUS_NOTE, PERSON_STATUS_TONE, type PersonStatus } from './person-view';

/** The two views of people and access, as links: the people, and the API tokens automation uses. */
export function PeopleNav() {
  return (
    <nav className="sub-nav" aria-label="People and access">
      <ul>
        <li>
          <NavLink to="/people" end>
            People
          </NavLink>
        </li>
        <li>
          <NavLink to="/people/api-tokens">API tokens</NavLink>
        </li>
      </ul>
    </nav>
  );
}

/**
 * What a person without people:read sees at these addresses (the navigation hides them, but an
 * address can be typed or shared): the reason, rather than the API's refusal.
 */
export function NeedsPeopleRead({ title }: { readonly title: string }) {
  return (
    <>
      <title>{`${title} — Airlock`}</title>
      <h1 tabIndex={-1}>{title}</h1>
      <p>Seeing people and API tokens needs the people:read scope, which only admins hold.</p>
    </>
  );
}

/** A person's status as a word on a tint, with why when it is not plain "Active". */
export function PersonStatusBadge({ status }: { readonly status: PersonStatus }) {
  const note = PERSON_STATUS_NOTE[status];
  return (
    <>
      <span className={`status status-${PERSON_STATUS_TONE[status]}`} data-person-status={status}>
        {PERSON_STATUS_LABEL[status]}
      </span>
      {note ? <span className="muted cell-note">{note}</span> : null}
    </>
  );
}

export function ApiTokenStateBadge({ state }: { readonly state: ApiTokenState }) {
  return (
    <span className={`status status-${API_TOKEN_STATE_TONE[state]}`} data-token-state={state}>
      {API_TOKEN_STATE_LABEL[state]}
    </span>
  );
}
