import type { EffectivePolicy } from './effective-policy';

/**
 * The effective rules a change is held to, in a few plain lines for the agent's system
 * prompt, so that it does not plan work the policy will refuse. Only what binds the change
 * (paths, size, secrets, dependencies, tests); the limits of the job itself (kinds,
 * repositories, endpoints, budgets) are the worker's business.
 */
export function describePolicyForAgent(policy: EffectivePolicy): string {
  const lines: string[] = [];
  const must = (level: 'advisory' | 'mandatory') => (level === 'mandatory' ? 'must' : 'should');
  if (policy.protectedPaths.paths.length > 0) {
    lines.push(`You ${must(policy.protectedPaths.level)} not create, edit, rename or delete files matching: ${policy.protectedPaths.paths.join(', ')}.`);
  }
  lines.push(`Keep the change to at most ${policy.maxFilesChanged.max} files and ${policy.maxLinesChanged.max} added plus removed lines.`);
  if (policy.secrets.enabled) {
    lines.push(`You ${must(policy.secrets.level)} not add secrets (tokens, keys, passwords, private keys) to any file; read them from the environment or configuration instead.`);
  }
  if (!policy.dependencyManifests.allowChanges) {
    lines.push(`You ${must(policy.dependencyManifests.level)} not change dependency manifests or lockfiles (package.json, requirements*.txt, Cargo.toml, go.mod, pom.xml and the like): fix the problem with the dependencies already there.`);
  }
  if (policy.deniedPackages.packages.length > 0) {
    lines.push(`You ${must(policy.deniedPackages.level)} not add these packages: ${policy.deniedPackages.packages.join(', ')}.`);
  }
  if (policy.deniedLicenses.licenses.length > 0) {
    lines.push(`You ${must(policy.deniedLicenses.level)} not add packages under these licences: ${policy.deniedLicenses.licenses.join(', ')}.`);
  }
  if (policy.testsMustPass.required) {
    lines.push(`The repository's tests ${must(policy.testsMustPass.level)} pass after your change${policy.minTestsRun.min > 0 ? `, and at least ${policy.minTestsRun.min} of them ${must(policy.minTestsRun.level)} run` : ''}.`);
  } else if (policy.minTestsRun.min > 0) {
    lines.push(`At least ${policy.minTestsRun.min} of the repository's tests ${must(policy.minTestsRun.level)} run after your change.`);
  }
  return lines.join('\n');
}
