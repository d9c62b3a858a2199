import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  DEMO_BROKEN_FIX_TICKET,
  DEMO_HANGING_TESTS_TICKET,
  DEMO_SLOW_TICKET,
  DEMO_TICKET,
  demoBrokenEditBlock,
  demoFixEditBlock,
  demoHangingTestsEditBlock,
  type DemoRepositoryOptions,
} from './demo-repository';

/** How long the slow scenario keeps the model "thinking": the window for crash tests. */
export const SLOW_SCENARIO_LATENCY_MS = 6_000;

/**
 * Writes the inference server's scenario files for the demo tickets. The simulator answers
 * the first scenario (in file-name order) whose `contains` strings all appear in the
 * prompt, so each scenario keys on its ticket's title.
 */
export function writeDemoScenarios(dir: string, options: DemoRepositoryOptions): void {
  const scenarios = [
    { file: '10-broken-fix.yaml', name: 'broken-fix', contains: DEMO_BROKEN_FIX_TICKET.title, content: demoBrokenEditBlock(options), latency_ms: 0 },
    { file: '20-slow-fix.yaml', name: 'slow-fix', contains: DEMO_SLOW_TICKET.title, content: demoFixEditBlock(options), latency_ms: SLOW_SCENARIO_LATENCY_MS },
    { file: '25-hanging-tests.yaml', name: 'hanging-tests', contains: DEMO_HANGING_TESTS_TICKET.title, content: demoHangingTestsEditBlock(options), latency_ms: 0 },
    { file: '30-fix.yaml', name: 'fix', contains: DEMO_TICKET.title, content: demoFixEditBlock(options), latency_ms: 0 },
  ];
  for (const { file, name, contains, content, latency_ms } of scenarios) {
    writeFileSync(join(dir, file), stringify({ name, match: { contains: [contains] }, response: { content, latency_ms } }));
  }
}
