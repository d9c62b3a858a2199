export {
  startForgeDouble,
  paginate,
  ForgeState,
  type ForgeApi,
  type ForgeDouble,
  type ForgeFlavour,
  type ForgeRoute,
  type ForgeRouteAnswer,
  type ForgeRouteContext,
  type ForgeStateOptions,
  type InjectedAnswer,
  type RecordedForgeRequest,
  type StoredMergeRequest,
  type StoredCommit,
  type StoredReview,
  type StoredReviewKind,
  type StoredReviewComment,
} from './forge-double';
export { githubApi, GITHUB_DOCS } from './github.api';
export { gitlabApi, GITLAB_DOCS } from './gitlab.api';
export { giteaApi, GITEA_DOCS } from './gitea.api';
export type { StoredIssue, StoredIssueComment, TrackerFlavour } from './forge-double';
export { jiraApi, JIRA_DOCS } from './jira.api';
export { protectBranches } from './protected-branches';
export { startDemoForge, DEMO_FORGE_PROJECT, DEMO_FORGE_BOT, DEMO_FORGE_PEOPLE, type DemoForge, type DemoForgeOptions } from './demo-forge';
export { startDemoTracker, demoTicketRef, DEMO_TRACKER_NAME, DEMO_TICKET_KEYS, DEMO_JIRA_PROJECT, type DemoTracker, type DemoTrackerFlavour, type DemoTrackerOptions } from './demo-tracker';
