/** A writer of one table file. Files are written under a temporary name by the snapshot, so `abort` just stops. */
export interface TableWriter<Row> {
  write(row: Row): Promise<void>;
  /** Flushes and closes the file; returns how many rows it holds. */
  close(): Promise<{ rows: number }>;
  /** Stops writing and releases resources; the file is left incomplete (the caller deletes it). */
  abort(): Promise<void>;
}
