// One writer per key at a time, in arrival order. Alibaba rejects a write while
// another change in the same VPC is unsettled (IncorrectRouteEntryStatus /
// TaskConflict), so writers queue here instead of colliding at the API.

export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a holder or waiters right now. */
  busyKeys(): string[] {
    return [...this.#tails.keys()];
  }
}
