// The reconciler's cache and retry rules against a fake kernel (its `io` seam):
// no root, no `ip`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../net/cidr.ts';
import { FakeClock } from '../util/fake-clock.ts';
import type { FailedChange } from './batch.ts';
import { type KernelObject, objectKey } from './objects.ts';
import type { Change } from './plan.ts';
import { type KernelIo, KernelReconciler } from './reconciler.ts';

const route = (n: number): KernelObject => ({ kind: 'route', dst: `10.5.${n}.0/24`, via: `10.5.${n}.0`, dev: 'flannel.1', onlink: true });
const key = (n: number): string => objectKey(route(n));

/** A kernel as a map; records each dump and apply; refuses the changes to keys in `refuse`. */
function fakeKernel(initial: number[] = []) {
  const objects = new Map(initial.map((n) => [key(n), route(n)]));
  const io: string[] = [];
  const sent: Change[] = [];
  const fault = { refuse: new Set<string>(), throws: false };
  const kernelIo: KernelIo = {
    observe: async () => {
      io.push('dump');
      return new Map(objects);
    },
    apply: async (changes) => {
      io.push('apply');
      if (fault.throws) throw new Error('ip: cannot run');
      sent.push(...changes);
      const failed: FailedChange[] = [];
      for (const c of changes) {
        if (fault.refuse.has(c.key)) failed.push({ change: c, error: 'RTNETLINK answers: refused' });
        else if (c.action === 'delete') objects.delete(c.key);
        else objects.set(c.key, c.object);
      }
      return { failed };
    },
  };
  return { objects, io, sent, fault, kernelIo };
}

interface Step {
  readonly desired: number[];
  readonly scope?: number[];
  readonly observe?: boolean;
  /** Done before the call: by hand to the kernel, or to the reconciler. */
  readonly before?: (k: ReturnType<typeof fakeKernel>, r: KernelReconciler) => void;
  readonly refuse?: number[];
  readonly throws?: boolean;
  /** Milliseconds the clock moves before the call. */
  readonly advance?: number;
  /** Route destinations (10.5.<n>.0/24) no route may overlap. */
  readonly forbidden?: number[];
  /** Kernel I/O of this call ('dump', 'apply'), the changes sent, the changes refused. */
  readonly want: { io: string[]; sent: string[]; failed?: string[] };
}

const cases: { description: string; kernel?: number[]; steps: Step[] }[] = [
  {
    description: 'the first call dumps the kernel even without observe: a route left from before tartan started is deleted',
    kernel: [9],
    steps: [{ desired: [1, 2], want: { io: ['dump', 'apply'], sent: ['add 1', 'add 2', 'delete 9'] } }],
  },
  {
    description: 'a lease event trusts the cache: no dump, only its scope is planned and sent',
    steps: [
      { desired: [1], want: { io: ['dump', 'apply'], sent: ['add 1'] } },
      { desired: [1, 2, 3], scope: [2], want: { io: ['apply'], sent: ['add 2'] } },
    ],
  },
  {
    description: 'nothing to change: no apply',
    steps: [
      { desired: [1], want: { io: ['dump', 'apply'], sent: ['add 1'] } },
      { desired: [1], scope: [1], want: { io: [], sent: [] } },
      { desired: [1], observe: true, want: { io: ['dump'], sent: [] } },
    ],
  },
  {
    description: 'drift no event announced: invisible to an event, repaired by the next resync',
    steps: [
      { desired: [1, 2], want: { io: ['dump', 'apply'], sent: ['add 1', 'add 2'] } },
      { desired: [1, 2], scope: [2], before: (k) => k.objects.delete(key(1)), want: { io: [], sent: [] } },
      { desired: [1, 2], observe: true, want: { io: ['dump', 'apply'], sent: ['add 1'] } },
    ],
  },
  {
    description: 'a refused add is left out of the cache, waits out its backoff, then is sent again whatever the scope',
    steps: [
      { desired: [1, 2], refuse: [2], want: { io: ['dump', 'apply'], sent: ['add 1', 'add 2'], failed: ['add 2'] } },
      { desired: [1, 2, 3], scope: [3], want: { io: ['apply'], sent: ['add 3'] } },
      { desired: [1, 2, 3], scope: [], advance: 999, want: { io: [], sent: [] } },
      { desired: [1, 2, 3], scope: [], advance: 1, want: { io: ['apply'], sent: ['add 2'] } },
      { desired: [1, 2, 3], scope: [], advance: 60_000, want: { io: [], sent: [] } },
    ],
  },
  {
    description: 'backoff doubles at every refusal (1 s, 2 s, 4 s), capped at the resync period (10 s)',
    steps: [
      { desired: [2], refuse: [2], want: { io: ['dump', 'apply'], sent: ['add 2'], failed: ['add 2'] } },
      { desired: [2], scope: [], advance: 1000, refuse: [2], want: { io: ['apply'], sent: ['add 2'], failed: ['add 2'] } },
      { desired: [2], scope: [], advance: 1999, want: { io: [], sent: [] } },
      { desired: [2], scope: [], advance: 1, refuse: [2], want: { io: ['apply'], sent: ['add 2'], failed: ['add 2'] } },
      { desired: [2], scope: [], advance: 4000, refuse: [2], want: { io: ['apply'], sent: ['add 2'], failed: ['add 2'] } },
      { desired: [2], scope: [], advance: 8000, refuse: [2], want: { io: ['apply'], sent: ['add 2'], failed: ['add 2'] } },
      { desired: [2], scope: [], advance: 10_000, want: { io: ['apply'], sent: ['add 2'] } },
    ],
  },
  {
    description: 'a refused delete stays in the cache and is tried again after its backoff',
    steps: [
      { desired: [1, 2], want: { io: ['dump', 'apply'], sent: ['add 1', 'add 2'] } },
      { desired: [1], scope: [2], refuse: [2], want: { io: ['apply'], sent: ['delete 2'], failed: ['delete 2'] } },
      { desired: [1], scope: [], advance: 1000, want: { io: ['apply'], sent: ['delete 2'] } },
    ],
  },
  {
    description: 'a route over a forbidden prefix (own subnet, underlay) is refused without reaching the kernel; the rest applies',
    steps: [
      { desired: [1, 2], forbidden: [2], want: { io: ['dump', 'apply'], sent: ['add 1'], failed: ['add 2'] } },
    ],
  },
  {
    description: 'an apply that fails outright makes the next call dump the kernel',
    steps: [
      { desired: [1], want: { io: ['dump', 'apply'], sent: ['add 1'] } },
      { desired: [1, 2], scope: [2], throws: true, want: { io: ['apply'], sent: [] } },
      { desired: [1, 2], scope: [2], want: { io: ['dump', 'apply'], sent: ['add 2'] } },
    ],
  },
  {
    description: 'invalidate(): the next call dumps the kernel (a device re-created under the cache)',
    steps: [
      { desired: [1], want: { io: ['dump', 'apply'], sent: ['add 1'] } },
      { desired: [1], scope: [], before: (k, r) => { k.objects.clear(); r.invalidate(); }, want: { io: ['dump', 'apply'], sent: ['add 1'] } },
    ],
  },
];

describe('KernelReconciler cache and retries', () => {
  for (const c of cases) {
    test(c.description, async () => {
      const k = fakeKernel(c.kernel);
      const clock = new FakeClock();
      const r = new KernelReconciler({ families: [4], devices: ['flannel.1'], io: k.kernelIo, clock });
      for (const [i, step] of c.steps.entries()) {
        await clock.advance(step.advance ?? 0);
        step.before?.(k, r);
        k.io.length = 0;
        k.sent.length = 0;
        k.fault.refuse = new Set((step.refuse ?? []).map(key));
        k.fault.throws = step.throws === true;
        const forbidden = step.forbidden?.map((n) => parseCidr(`10.5.${n}.0/24`));
        const call = r.reconcile({ desired: step.desired.map(route), scope: step.scope && new Set(step.scope.map(key)), observe: step.observe, forbidden });
        const show = (x: Change): string => `${x.action} ${x.key.replace(/^route 10\.5\.(\d+)\.0\/24$/, '$1')}`;
        if (step.throws) {
          await assert.rejects(call, /cannot run/);
        } else {
          const outcome = await call;
          assert.equal(outcome.observed, step.want.io.includes('dump'), `step ${i}: observed`);
          assert.deepEqual(outcome.failed.map((f) => show(f.change)), step.want.failed ?? [], `step ${i}: failed`);
        }
        assert.deepEqual(k.io, step.want.io, `step ${i}: kernel I/O`);
        assert.deepEqual(k.sent.map(show), step.want.sent, `step ${i}: changes sent`);
      }
    });
  }

  test('calls run one at a time, in call order', async () => {
    const k = fakeKernel();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const r = new KernelReconciler({
      families: [4], devices: ['flannel.1'],
      io: {
        observe: async (scope) => { order.push('dump'); return k.kernelIo.observe(scope); },
        apply: async (changes, opts) => { order.push(`apply ${changes.length}`); await held; return k.kernelIo.apply(changes, opts); },
      },
    });
    const first = r.reconcile({ desired: [route(1)] });
    const second = r.reconcile({ desired: [route(1), route(2)], scope: new Set([key(2)]) });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['dump', 'apply 1'], 'the second waits for the first');
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['dump', 'apply 1', 'apply 1']);
  });
});
