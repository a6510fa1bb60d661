/**
 * Holds back new conversations while a checkpoint waits for the ones in flight to finish, so every conversation's
 * rows land in a single snapshot.
 */
export class CheckpointGate {
  private waiting: Promise<void> | undefined;
  private release: (() => void) | undefined;

  close(): void {
    this.waiting ??= new Promise<void>((resolve) => {
      this.release = resolve;
    });
  }

  open(): void {
    this.release?.();
    this.waiting = undefined;
    this.release = undefined;
  }

  /** Resolves at once while open; otherwise when the gate opens again. */
  async pass(): Promise<void> {
    await this.waiting;
  }
}
