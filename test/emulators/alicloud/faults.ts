// Fault injection: added latency, and a queue of one-shot faults that the next
// matching requests take, in order.

export type FaultKind =
  /** 400 Throttling.User, as if flow control had tripped. */
  | 'throttle'
  /** 500 InternalError. */
  | 'internal'
  /** 503 ServiceUnavailable. */
  | 'unavailable'
  /** The connection is dropped before the request is handled. */
  | 'drop'
  /** The request is handled, then the connection is dropped before the answer. */
  | 'dropAfter';

export interface FaultSpec {
  readonly throttle?: number;
  readonly internal?: number;
  readonly unavailable?: number;
  readonly drop?: number;
  readonly dropAfter?: number;
  /** Only these actions take the faults; all actions when absent. */
  readonly actions?: readonly string[];
}

interface Fault {
  readonly kind: FaultKind;
  readonly actions?: readonly string[] | undefined;
}

export class Faults {
  #queue: Fault[] = [];
  latencyMs = 0;

  inject(spec: FaultSpec): void {
    const kinds: FaultKind[] = ['throttle', 'internal', 'unavailable', 'drop', 'dropAfter'];
    for (const kind of kinds) {
      for (let i = 0; i < (spec[kind] ?? 0); i++) this.#queue.push({ kind, actions: spec.actions });
    }
  }

  /** Takes the first queued fault that applies to `action`. */
  take(action: string): FaultKind | undefined {
    const i = this.#queue.findIndex((f) => !f.actions || f.actions.includes(action));
    if (i < 0) return undefined;
    const [fault] = this.#queue.splice(i, 1);
    return fault!.kind;
  }

  pending(): number {
    return this.#queue.length;
  }

  clear(): void {
    this.#queue = [];
    this.latencyMs = 0;
  }
}
