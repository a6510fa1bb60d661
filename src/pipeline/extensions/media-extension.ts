import type { MessageRow } from '../../schema/tables.js';
import { mediaUrls } from '../message-content.js';
import type { MediaArchive, MediaOutcome } from './media-archive.js';
import type { RunExtension } from './run-extension.js';

/** Where media outcomes go: the open snapshot's folder and media table. */
export interface MediaSink {
  readonly openDir: string;
  writeMedia(outcome: MediaOutcome): Promise<void>;
}

/**
 * `--download-media` as a run extension: every media link of a row with content is queued for download into the open
 * snapshot, finished downloads become media rows, and downloads end inside the snapshot they started in (each
 * publish waits for them first).
 */
export function mediaExtension(archive: MediaArchive, sink: MediaSink): RunExtension {
  const writeFinished = async (): Promise<void> => {
    for (const outcome of archive.takeFinished()) await sink.writeMedia(outcome);
  };
  return {
    async messageWritten(row: MessageRow): Promise<void> {
      if (row.hydration_status !== 'hydrated' && row.hydration_status !== 'captured') return;
      for (const ref of mediaUrls(row))
        await archive.enqueue(
          { conversationId: row.conversation_id, messageId: row.message_id, ...ref },
          sink.openDir,
        );
      await writeFinished();
    },
    async beforePublish(): Promise<void> {
      await archive.drain();
      await writeFinished();
    },
  };
}
