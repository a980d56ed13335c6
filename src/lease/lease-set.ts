// The in-memory mirror of the lease store that the agent and the controller plan
// from. Fed by list + watch; it only records, wakes listeners, and says whether
// it can be trusted for deletions (synced, and not cut off from the store).
import type { Lease } from './lease.ts';
import type { LeaseEvent, LeaseSnapshot, SkippedLease } from './store.ts';

export type LeaseSetListener = (changedKeys: readonly string[]) => void;

export class LeaseSet {
  readonly #leases = new Map<string, Lease>();
  readonly #skipped = new Map<string, SkippedLease>();
  readonly #listeners = new Set<LeaseSetListener>();
  #synced = false;
  #connected = true;
  #revision = 0;
  #version = 0;

  /** Replaces everything with a full listing (start, or re-list after compaction). */
  reset(snapshot: LeaseSnapshot): void {
    const changed = new Set([...this.#leases.keys(), ...snapshot.leases.map((l) => l.key)]);
    this.#leases.clear();
    this.#skipped.clear();
    for (const lease of snapshot.leases) this.#leases.set(lease.key, lease);
    for (const s of snapshot.skipped) this.#skipped.set(s.key, s);
    this.#revision = snapshot.revision;
    this.#synced = true;
    this.#connected = true;
    this.#changed([...changed]);
  }

  apply(events: readonly LeaseEvent[]): void {
    const changed: string[] = [];
    for (const ev of events) {
      switch (ev.type) {
        case 'resync':
          this.reset(ev.snapshot);
          break;
        case 'put':
          this.#leases.set(ev.lease.key, ev.lease);
          this.#skipped.delete(ev.lease.key);
          this.#revision = Math.max(this.#revision, ev.lease.revision);
          changed.push(ev.lease.key);
          break;
        case 'delete':
          this.#leases.delete(ev.key);
          this.#skipped.delete(ev.key);
          this.#revision = Math.max(this.#revision, ev.revision);
          changed.push(ev.key);
          break;
        case 'skipped':
          // A value that no longer parses: keep the last good lease (fail static), note the error.
          this.#skipped.set(ev.skipped.key, ev.skipped);
          changed.push(ev.skipped.key);
          break;
      }
    }
    if (changed.length > 0) this.#changed(changed);
  }

  setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#changed([]);
  }

  /** True once listed and while the watch is connected: only then may anyone delete on its word. */
  get trustworthy(): boolean {
    return this.#synced && this.#connected;
  }
  get synced(): boolean {
    return this.#synced;
  }
  get revision(): number {
    return this.#revision;
  }
  /** Bumps on every change; cheap "did anything change since" checks. */
  get version(): number {
    return this.#version;
  }
  get size(): number {
    return this.#leases.size;
  }

  get(key: string): Lease | undefined {
    return this.#leases.get(key);
  }
  all(): Lease[] {
    return [...this.#leases.values()];
  }
  skipped(): SkippedLease[] {
    return [...this.#skipped.values()];
  }

  onChange(listener: LeaseSetListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(keys: readonly string[]): void {
    this.#version++;
    for (const l of this.#listeners) l(keys);
  }
}
