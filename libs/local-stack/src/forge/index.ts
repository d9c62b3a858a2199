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
} from './forge-double';
export { githubApi, GITHUB_DOCS } from './github.api';
export { gitlabApi, GITLAB_DOCS } from './gitlab.api';
export { giteaApi, GITEA_DOCS } from './gitea.api';
export { protectBranches } from './protected-branches';
export { startDemoForge, DEMO_FORGE_PROJECT, DEMO_FORGE_BOT, DEMO_FORGE_PEOPLE, type DemoForge, type DemoForgeOptions } from './demo-forge';
