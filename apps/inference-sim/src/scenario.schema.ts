import { z } from 'zod';

const toolCallSchema = z.strictObject({
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
});

const errorSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  message: z.string().min(1),
  type: z.string().min(1),
  code: z.string().min(1).optional(),
});

const responseSchema = z
  .strictObject({
    content: z.string().optional(),
    tool_calls: z.array(toolCallSchema).min(1).optional(),
    latency_ms: z.number().int().min(0).default(0),
    chunk_delay_ms: z.number().int().min(0).default(0),
    error: errorSchema.optional(),
    fail_times: z.number().int().min(1).optional(),
    cut_times: z.number().int().min(1).optional(),
  })
  .superRefine((response, ctx) => {
    if (response.fail_times !== undefined && response.error === undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'fail_times needs an error to fail with' });
    }
    // Only a scenario that always fails may go without something to answer.
    const alwaysFails = response.error !== undefined && response.fail_times === undefined;
    if (!alwaysFails && response.content === undefined && response.tool_calls === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['content'],
        message: 'expected content (a string) or tool_calls (a list), or an error without fail_times',
      });
    }
  });

/**
 * One scenario file. Objects are strict so a misspelt key (`latancy_ms`) fails at startup
 * instead of silently doing nothing. The README documents every field. A scenario answers
 * with one `response`, or scripts a conversation with `turns`: the answer to a request is
 * the turn numbered by the assistant messages it already holds (the last turn repeats), so
 * the simulator stays stateless and an agent's retries replay the same script.
 */
export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    match: z
      .strictObject({
        contains: z.array(z.string().min(1)).default([]),
        model: z.string().min(1).optional(),
        last_role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']).optional(),
      })
      .prefault({}),
    response: responseSchema.optional(),
    turns: z.array(responseSchema).min(1).max(200).optional(),
  })
  .superRefine((scenario, ctx) => {
    if ((scenario.response === undefined) === (scenario.turns === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['response'], message: 'expected exactly one of response (one answer) or turns (a scripted conversation)' });
    }
  })
  .transform(({ response, turns, ...rest }) => ({ ...rest, turns: turns ?? (response === undefined ? [] : [response]) }));

/** A validated scenario, defaults applied: a single `response` is a script of one turn. */
export type Scenario = z.output<typeof scenarioSchema>;

/** One scripted answer of a scenario. */
export type ScenarioResponse = Scenario['turns'][number];

/** The turn that answers a request holding `assistantMessages` earlier answers: the last turn once the script runs out. */
export function turnFor(scenario: Scenario, assistantMessages: number): ScenarioResponse {
  return scenario.turns[Math.min(assistantMessages, scenario.turns.length - 1)] as ScenarioResponse;
}

/** The name of the scenario answering requests that no other scenario matches. */
export const DEFAULT_SCENARIO_NAME = 'default';
