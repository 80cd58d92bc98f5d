/** A registry of timers so close() can clear every one of them; a throwing callback never crashes the process. */
export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.closed) return undefined;
    const t = setTimeout(
      () => {
        this.live.delete(t);
        try {
          fn();
        } catch (err) {
          this.onError(err);
        }
      },
      Math.max(0, ms),
    );
    this.live.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.live.delete(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}
