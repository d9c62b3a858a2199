import { describePolicyForAgent } from './agent-policy-description';
import { localEffectivePolicy } from './effective-policy';
import { DEFAULT_PROTECTED_PATHS } from './policy-document';

const input = {
  allowedTaskKinds: ['fix' as const],
  repoAliases: ['payments-api'],
  baseRefRules: new Map(),
  endpointNames: ['gpu-a'],
  maxChangedFiles: 25,
  maxChangedLines: 2_000,
  maxJobTokens: 200_000,
  agentTimeoutMs: 1_200_000,
};

describe('describePolicyForAgent', () => {
  it('states the default rules in plain lines', () => {
    const text = describePolicyForAgent(localEffectivePolicy(input));
    expect(text.split('\n')).toEqual([
      `You must not create, edit, rename or delete files matching: ${DEFAULT_PROTECTED_PATHS.join(', ')}.`,
      'Keep the change to at most 25 files and 2000 added plus removed lines.',
      'You must not add secrets (tokens, keys, passwords, private keys) to any file; read them from the environment or configuration instead.',
      'You must not change dependency manifests or lockfiles (package.json, requirements*.txt, Cargo.toml, go.mod, pom.xml and the like): fix the problem with the dependencies already there.',
      "The repository's tests must pass after your change.",
    ]);
  });

  it('names denied packages and licences and the test minimum, says should for advisory rules, and leaves out what is off', () => {
    const text = describePolicyForAgent(
      localEffectivePolicy({
        ...input,
        rules: {
          'protected-paths': { paths: [], level: 'mandatory' },
          secrets: { enabled: false, level: 'mandatory' },
          'dependency-manifests': { allowChanges: true, level: 'mandatory' },
          'denied-packages': { packages: ['left-pad', 'event-stream'], level: 'advisory' },
          'denied-licenses': { licenses: ['AGPL-3.0-only'], level: 'mandatory' },
          'tests-must-pass': { required: false, level: 'mandatory' },
          'min-tests-run': { min: 10, level: 'mandatory' },
        },
      }),
    );
    expect(text.split('\n')).toEqual([
      'Keep the change to at most 25 files and 2000 added plus removed lines.',
      'You should not add these packages: left-pad, event-stream.',
      'You must not add packages under these licences: AGPL-3.0-only.',
      "At least 10 of the repository's tests must run after your change.",
    ]);
  });
});
