import { GraphRequestError } from '../graph/errors.js';
import type { RecordedFailure } from './types.js';

/** The manifest entry for an error a stage gave up on (Graph errors keep their classification). */
export function recordedFailure(
  stage: RecordedFailure['stage'],
  error: Error,
  ids: { conversation_id?: string; message_id?: string } = {},
): RecordedFailure {
  return {
    stage,
    ...ids,
    kind: error instanceof GraphRequestError ? error.kind : error.name,
    reason: error instanceof GraphRequestError ? error.classification.reason : error.name,
    message: error.message,
  };
}
