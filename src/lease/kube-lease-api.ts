// The Lease calls leader election makes (kube-election.ts), as one small interface,
// and its implementation on client-node 2.x's CoordinationV1Api: MicroTimes written
// with exactly six fractional digits (a plain Date has three and the apiserver answers
// 400), read back tolerant of the raw string client-node hands over, and every request
// carrying the caller's AbortSignal. Errors are typed: 409 ConflictError, 429/5xx and
// no answer RetryableError (with the server's Retry-After), anything else an Error that
// names the Lease and the apiserver's Status (kubernetes.md §5, §6).
import { ApiException, CoordinationV1Api, type KubeConfig, Observable, type ObservableMiddleware, type ConfigurationOptions, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { ConflictError, InvalidInputError, RetryableError, errorMessage } from '../errors.ts';

/** The election fields of a Lease's spec. Times are the MicroTime text as stored. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string;
  readonly renewTime: string;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly resourceVersion: string;
  readonly record: LeaseRecord;
}

export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

/** The three Lease calls election needs. 409 → ConflictError; 429/5xx/network → RetryableError (retryAfterMs if the server said). */
export interface KubeLeaseApi {
  /** undefined when there is no such Lease (404). */
  read(ref: LeaseRef, signal: AbortSignal): Promise<StoredLease | undefined>;
  create(ref: LeaseRef, record: LeaseRecord, signal: AbortSignal): Promise<StoredLease>;
  /** PUT `record` over `current` (as read or written), carrying its resourceVersion. */
  replace(ref: LeaseRef, current: StoredLease, record: LeaseRecord, signal: AbortSignal): Promise<StoredLease>;
}

/** RFC3339 with exactly six fractional digits (apimachinery RFC3339Micro); the apiserver answers 400 to anything else. */
export function formatMicroTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || ms >= 253402300800000) throw new InvalidInputError('MicroTime', ms, 'must be a time in ms between 1970 and 9999');
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(micros - seconds * 1_000_000).padStart(6, '0')}Z`;
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** ms since the epoch (with the sub-ms part) of an RFC3339 time with 0–9 fractional digits; undefined if it is not one. */
export function parseMicroTime(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}${m[3]!.toUpperCase()}`);
  return Number.isNaN(whole) ? undefined : whole + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/** A MicroTime as client-node hands it over: the raw string (its deserializer does not know V1MicroTime), or a Date. */
export function microTimeText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value instanceof Date && !Number.isNaN(value.getTime()) ? formatMicroTime(value.getTime()) : '';
}

/** A V1MicroTime that serializes as exactly the text given (client-node's JSON.stringify calls toJSON → toISOString). */
class MicroTimeText extends V1MicroTime {
  readonly #text: string;
  constructor(text: string) {
    super(parseMicroTime(text) ?? Number.NaN);
    this.#text = text;
  }
  override toISOString(): string {
    return this.#text;
  }
}

/** The Lease calls on client-node's CoordinationV1Api; every request carries the caller's AbortSignal. */
export function kubeLeaseApi(kc: KubeConfig): KubeLeaseApi {
  const api = kc.makeApiClient(CoordinationV1Api);
  const objects = new WeakMap<StoredLease, V1Lease>();
  const stored = (lease: V1Lease): StoredLease => {
    const spec = lease.spec ?? {};
    const s: StoredLease = {
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      record: {
        holderIdentity: spec.holderIdentity ?? '', leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
        acquireTime: microTimeText(spec.acquireTime), renewTime: microTimeText(spec.renewTime), leaseTransitions: spec.leaseTransitions ?? 0,
      },
    };
    objects.set(s, lease);
    return s;
  };
  // The rest of the object as read (labels, annotations, other spec fields) goes back unchanged, as client-go's LeaseLock does.
  const body = (ref: LeaseRef, r: LeaseRecord, base?: V1Lease): V1Lease => ({
    ...base, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { ...base?.metadata, name: ref.name, namespace: ref.namespace },
    spec: {
      ...base?.spec, holderIdentity: r.holderIdentity, leaseDurationSeconds: r.leaseDurationSeconds, leaseTransitions: r.leaseTransitions,
      acquireTime: r.acquireTime === '' ? undefined : new MicroTimeText(r.acquireTime), renewTime: r.renewTime === '' ? undefined : new MicroTimeText(r.renewTime),
    },
  });
  const call = async <T>(what: string, ref: LeaseRef, signal: AbortSignal, fn: (o: ConfigurationOptions<ObservableMiddleware>) => Promise<T>): Promise<T> => {
    try {
      return await fn(withSignal(signal));
    } catch (err) {
      throw signal.aborted ? (signal.reason as Error) : leaseApiError(`${what} Lease ${ref.namespace}/${ref.name}`, err);
    }
  };
  return {
    read: (ref, signal) => call('read', ref, signal, async (o) => {
      try {
        return stored(await api.readNamespacedLease(ref, o));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    }),
    create: (ref, record, signal) => call('create', ref, signal, async (o) => stored(await api.createNamespacedLease({ namespace: ref.namespace, body: body(ref, record) }, o))),
    replace: (ref, current, record, signal) => call('replace', ref, signal, async (o) => {
      const base = objects.get(current);
      const b = body(ref, record, base);
      b.metadata = { ...b.metadata, resourceVersion: current.resourceVersion };
      return stored(await api.replaceNamespacedLease({ ...ref, body: b }, o));
    }),
  };
}

function withSignal(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
  // append: replacing would drop the client's own middleware (kubernetes.md §6).
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** ApiException → ConflictError (409), RetryableError (429, 5xx, no answer), or an Error naming the status. */
export function leaseApiError(what: string, err: unknown): Error {
  if (!(err instanceof ApiException)) return new RetryableError(`${what}: ${errorMessage(err)}`, { cause: err });
  const code = (err as ApiException<unknown>).code;
  let status: { reason?: unknown; message?: unknown } = {};
  try {
    status = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as typeof status;
  } catch { /* not a Status: the code says enough */ }
  const text = `${what}: ${code}${typeof status.reason === 'string' ? ` ${status.reason}` : ''}${typeof status.message === 'string' ? `: ${status.message}` : ''}`;
  if (code === 409) return new ConflictError(text, { cause: err });
  if (code !== 429 && code < 500) return new Error(text, { cause: err });
  const seconds = Number((err as ApiException<unknown>).headers?.['retry-after']);
  return new RetryableError(text, { cause: err, ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}) });
}
