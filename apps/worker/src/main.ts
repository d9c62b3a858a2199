import { runWorkerCli } from './cli/worker.cli';

void runWorkerCli(process.argv).then((code) => process.exit(code));
