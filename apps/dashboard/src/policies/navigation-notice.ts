import { useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';

/** What a page that navigated here wants said on arrival ("Saved version 2."), carried in the history entry's state. */
export interface NavigationNotice {
  readonly notice: string;
}

export function noticeState(notice: string): NavigationNotice {
  return { notice };
}

function noticeOf(state: unknown): string | null {
  return typeof state === 'object' && state !== null && 'notice' in state && typeof state.notice === 'string' ? state.notice : null;
}

/**
 * The notice the navigation to this page carried. It is set just after the page mounts, so
 * a status region announces it (a live region's first content is not read), and taken out
 * of the history entry, so a reload does not say it again.
 */
export function useNavigationNotice(): string | null {
  const location = useLocation();
  const navigate = useNavigate();
  const [notice, setNotice] = useState<string | null>(null);
  const carried = noticeOf(location.state);
  useEffect(() => {
    if (carried === null) return;
    setNotice(carried);
    void navigate({ pathname: location.pathname, search: location.search, hash: location.hash }, { replace: true, state: null });
  }, [carried, navigate, location.pathname, location.search, location.hash]);
  return notice;
}
