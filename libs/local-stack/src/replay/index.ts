export {
  loadReplayCase,
  readReplayRepoConfig,
  resolveSetupEnv,
  replayCaseSchema,
  REPLAY_CASE_REPO_DIR,
  type ReplayCase,
  type ReplayCaseDefinition,
  type ReplayRepoConfig,
} from './replay-case';
export { materializeReplayCase, type MaterializeOptions, type MaterializedReplayCase } from './materialize-replay-case';
export { editsFromPatch, scriptedConversation, writeCaseScenario, type ScriptedEdit, type ScriptedTurn, type ConversationKind } from './scripted-conversation';
