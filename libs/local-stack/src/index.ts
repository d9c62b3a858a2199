export { startLocalStack, DEMO_REPO_ALIAS, type ControlPlaneReplica, type LocalStack, type LocalStackOptions, type WorkerHandle } from './local-stack';
export { startTcpBalancer, type TcpBalancer, type BalancerBackend } from './tcp-balancer';
export {
  ControlPlaneApiClient,
  TERMINAL_JOB_STATUSES,
  type JobView,
  type JobAttemptView,
  type JobEventView,
  type WorkerView,
} from './control-plane-api.client';
export {
  createDemoRepository,
  demoRepositoryFiles,
  demoFixEdits,
  demoBrokenEdits,
  type DemoEdit,
  demoHangMarker,
  DEMO_REVIEW_COMMENTS,
  type DemoReviewComment,
  DEMO_TICKET,
  DEMO_HANGING_TESTS_TICKET,
  DEMO_BROKEN_FIX_TICKET,
  DEMO_SLOW_TICKET,
  DEMO_BRANCH_BASE,
} from './demo-repository';
export { writeDemoScenarios, SLOW_SCENARIO_LATENCY_MS, DEMO_REVIEW_PROMPT_OPENING } from './demo-scenarios';
export { startGitServer, type GitServer } from './git-server';
export { startAuthenticatedGitHttpServer, type AuthenticatedGitHttpServer, type GitHttpRequest } from './git-http-server';
export { ManagedProcess, type ManagedProcessOptions, type ProcessEvent } from './managed-process';
export { launchProgram, WORKSPACE_ROOT, type ProgramName } from './workspace-programs';
export { createThrowawayCertificates, createThrowawayClientCa, type ThrowawayCertificates, type ThrowawayClientCa } from './throwaway-ca.factory';
export { startNpmMirror, configuredNpmRegistry, PUBLIC_NPM_REGISTRY, type NpmMirror, type NpmMirrorOptions } from './npm-mirror';
export {
  startPythonIndex,
  normalizeProjectName,
  MACHINE_SIMPLE_INDEX_DIRS,
  MACHINE_FIND_LINKS_DIRS,
  type PythonIndex,
  type PythonIndexOptions,
} from './python-index';
export {
  loadReplayCase,
  readReplayRepoConfig,
  resolveSetupEnv,
  materializeReplayCase,
  REPLAY_CASE_REPO_DIR,
  type ReplayCase,
  type ReplayCaseDefinition,
  type ReplayRepoConfig,
  type MaterializeOptions,
  type MaterializedReplayCase,
  editsFromPatch,
  scriptedConversation,
  writeCaseScenario,
  type ScriptedEdit,
  type ScriptedTurn,
  type ConversationKind,
} from './replay';
export * from './forge';
export {
  egressTraceWrapper,
  parseSocketTrace,
  judgeEgress,
  summarizeEgress,
  type SocketTrace,
  type SocketDestination,
  type EgressPolicy,
  type AllowedEndpoint,
  type AllowedUnixSocket,
  type EgressVerdict,
} from './egress-trace';
