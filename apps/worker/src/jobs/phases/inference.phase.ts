import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import { buildFixPrompt } from '../inference/fix-prompt.builder';
import type { InferenceClient } from '../inference/inference.client';
import { InferenceRejectedError } from '../inference/inference-rejected.error';
import { InferenceStreamIncompleteError } from '../inference/inference-stream-incomplete.error';
import { InferenceUnavailableError } from '../inference/inference-unavailable.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';

/**
 * INFERENCE: asks the local model for a fix, counting requests and tokens. Fails
 * INFERENCE_UNAVAILABLE (no endpoint answered), INFERENCE_FAILED (a 4xx, or a stream the
 * server ended without a finish_reason) or MODEL_OUTPUT_UNUSABLE (an answer too long to be an edit).
 */
export class InferencePhase implements JobPhase {
  readonly name = Phase.PHASE_INFERENCE;
  readonly defaultFailure = FailureCode.INFERENCE_UNAVAILABLE;

  constructor(
    private readonly inference: Pick<InferenceClient, 'complete'>,
    private readonly limits: Pick<WorkerConfig['limits'], 'maxModelTokens'>,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const { tokens } = ctx.report;
    const messages = buildFixPrompt(ctx.ticket, ctx.need('contextFiles'));
    // Recorded before it is sent (which endpoint takes it is known only once one answers).
    ctx.record.transcript({ kind: 'prompt', messages });
    try {
      const completion = await this.inference.complete(messages, this.limits.maxModelTokens, ctx.signal);
      tokens.requests += completion.requests;
      tokens.promptTokens += completion.promptTokens;
      tokens.completionTokens += completion.completionTokens;
      ctx.record.transcript({
        kind: 'answer',
        endpoint: completion.endpoint,
        content: completion.content,
        promptTokens: completion.promptTokens,
        completionTokens: completion.completionTokens,
      });
      ctx.provide('answer', completion.content);
    } catch (error) {
      ctx.record.transcript({ kind: 'note', text: `no answer from the model: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` });
      // Requests that failed were still made: the count says how hard the worker tried.
      if (error instanceof InferenceUnavailableError || error instanceof InferenceRejectedError || error instanceof InferenceStreamIncompleteError) {
        tokens.requests += error.requests;
      }
      throw error;
    }
  }
}
