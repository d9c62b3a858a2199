import { nodeProgramArgv, nodeProgramFiles } from './node-program';

describe('nodeProgramFiles', () => {
  it("shows Node, the entry and the node_modules folder of each preloaded module, so a worker installed in a hidden folder still starts its relay", () => {
    const argv = nodeProgramArgv('/tmp/checkout/apps/worker/src/jobs/setup/egress-relay.ts', {
      execPath: '/usr/bin/node',
      execArgv: ['-r', '/tmp/checkout/node_modules/@swc-node/register/index.js', '--require=/opt/hooks/trace.js'],
      cwd: '/tmp/checkout',
    });
    expect(nodeProgramFiles(argv)).toEqual(['/usr/bin/node', '/tmp/checkout/apps/worker/src/jobs/setup/egress-relay.ts', '/tmp/checkout/node_modules', '/opt/hooks/trace.js']);
  });

  it('shows only Node and the entry of a compiled worker that preloads nothing', () => {
    const argv = nodeProgramArgv('/opt/airlock/dist/egress-relay.js', { execPath: '/usr/bin/node', execArgv: [], cwd: '/' });
    expect(nodeProgramFiles(argv)).toEqual(['/usr/bin/node', '/opt/airlock/dist/egress-relay.js']);
  });
});
