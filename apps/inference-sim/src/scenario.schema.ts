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
 * instead of silently doing nothing. The README documents every field.
 */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  match: z
    .strictObject({
      contains: z.array(z.string().min(1)).default([]),
      model: z.string().min(1).optional(),
      last_role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']).optional(),
    })
    .prefault({}),
  response: responseSchema,
});

/** A validated scenario, defaults applied. */
export type Scenario = z.output<typeof scenarioSchema>;

/** The name of the scenario answering requests that no other scenario matches. */
export const DEFAULT_SCENARIO_NAME = 'default';
