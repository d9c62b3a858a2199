import { WIRE_LIMITS } from '@airlock/protocol';
import { MAX_WORKER_LABELS } from '../config/worker-config.schema';
import { workerPools } from './worker-pools';

describe('workerPools', () => {
  it("counts the enrolled pool after the config's labels, once", () => {
    expect(workerPools([], 'gpu')).toEqual(['gpu']);
    expect(workerPools(['eu', 'linux'], 'gpu')).toEqual(['eu', 'linux', 'gpu']);
    expect(workerPools(['gpu', 'eu'], 'gpu')).toEqual(['gpu', 'eu']);
    expect(workerPools(['eu'], null)).toEqual(['eu']);
    expect(workerPools([], null)).toEqual([]);
  });

  it('keeps within the Hello bound with as many labels as a config may list', () => {
    const labels = Array.from({ length: MAX_WORKER_LABELS }, (_, n) => `pool-${n}`);
    expect(workerPools(labels, 'gpu')).toHaveLength(WIRE_LIMITS.maxWorkerLabels);
  });
});
