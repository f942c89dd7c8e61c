/**
 * The `onEnqueued` subscribers every queue driver keeps: each subscription is its own entry (the
 * same function can subscribe twice and unsubscribe each time independently), and a listener that
 * throws becomes a process warning instead of failing the write that notified it.
 */
export class EnqueueListeners {
  private readonly listeners = new Set<() => void>();

  /** Subscribes; returns the unsubscribe function. */
  add(listener: () => void): () => void {
    const entry = (): void => listener();
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        process.emitWarning(`queue onEnqueued listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
