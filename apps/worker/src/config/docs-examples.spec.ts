import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoConfigSchema } from '../jobs/repo-config/repo-config.schema';
import { workerConfigSchema } from './worker-config.schema';

const WORKER_DOC = join(__dirname, '..', '..', '..', '..', 'docs', 'worker.md');

/** The YAML blocks of docs/worker.md marked `<!-- example: NAME -->`, in order. */
function examples(name: string): string[] {
  const text = readFileSync(WORKER_DOC, 'utf8');
  const marker = `<!-- example: ${name} -->\n\`\`\`yaml\n`;
  const found: string[] = [];
  for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
    const start = at + marker.length;
    found.push(text.slice(start, text.indexOf('\n```', start)));
  }
  return found;
}

/** The examples a customer copies from docs/worker.md are checked against the schemas the worker loads them with. */
describe('docs/worker.md examples', () => {
  it('has a worker config that the worker accepts, labels and local policy included', () => {
    const [worker] = examples('worker.yml');
    expect(worker).toBeDefined();
    const parsed = workerConfigSchema.safeParse(parse(worker ?? ''));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(parsed.data?.labels).not.toEqual([]);
    expect(parsed.data?.policy.rules).toBeDefined();
  });

  it.each(['gitlab', 'github', 'gitea'])('has a complete %s repository entry that the worker accepts', (type) => {
    const [entry] = examples(`forge-${type}.yml`);
    expect(entry).toBeDefined();
    const parsed = workerConfigSchema.safeParse({
      controlPlane: { address: '127.0.0.1:7443', insecure: true },
      stateDir: '/var/lib/airlock-worker',
      workspaceDir: '/var/cache/airlock-worker',
      inference: { endpoints: [{ name: 'local', baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen2.5-coder:7b' }] },
      repositories: [parse(entry ?? '')],
    });
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(parsed.data?.repositories[0]?.forge).toMatchObject({ type, labels: expect.any(Array) });
  });

  it('has a trackers section, a Jira and a GitLab tracker, that the worker accepts', () => {
    const [entry] = examples('trackers.yml');
    expect(entry).toBeDefined();
    const parsed = workerConfigSchema.safeParse({
      controlPlane: { address: '127.0.0.1:7443', insecure: true },
      stateDir: '/var/lib/airlock-worker',
      workspaceDir: '/var/cache/airlock-worker',
      inference: { endpoints: [{ name: 'local', baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen2.5-coder:7b' }] },
      ...(parse(entry ?? '') as object),
    });
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(parsed.data?.trackers.map((tracker) => tracker.type)).toEqual(['jira', 'gitlab']);
  });

  it('has a TypeScript and a Python .airlock.yml that the worker accepts', () => {
    const repoConfigs = examples('.airlock.yml');
    expect(repoConfigs).toHaveLength(2);
    for (const example of repoConfigs) {
      const parsed = repoConfigSchema.safeParse(parse(example));
      expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    }
  });
});
