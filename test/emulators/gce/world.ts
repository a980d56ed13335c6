// The emulated compute state: projects holding networks, global routes, instances
// and global operations. Operations move PENDING → RUNNING → DONE on the injected
// clock and take effect only at DONE; the world advances lazily whenever it is
// looked at, so nothing here needs a timer.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../src/util/time.ts';
import { type RouteInput, validateRouteBody } from './refs.ts';
import { ApiError, alreadyExists, notFound } from './resources.ts';

const MAX_OPERATIONS = 10_000;

export interface OperationTiming {
  readonly pendingMs: number;
  readonly runningMs: number;
}

export interface OperationFailure {
  readonly code: string;
  readonly message: string;
  readonly httpStatus: number;
  readonly httpMessage: string;
}

export interface Route extends RouteInput {
  readonly id: string;
  readonly created: number;
}

export interface Instance {
  readonly id: string;
  readonly project: string;
  readonly zone: string;
  readonly name: string;
  readonly network: string;
  readonly networkIP: string;
  readonly canIpForward: boolean;
  readonly status: string;
  readonly created: number;
}

export interface Operation {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly type: 'insert' | 'delete';
  readonly routeName: string;
  readonly targetId: string;
  readonly clientOperationId?: string | undefined;
  readonly insertAt: number;
  readonly runningAt: number;
  readonly doneAt: number;
  readonly failure?: OperationFailure | undefined;
  settled: boolean;
  /** Applies the change at DONE (nothing but bookkeeping when the operation failed). */
  readonly effect: (op: Operation) => void;
}

export interface Project {
  readonly name: string;
  readonly id: string;
  readonly networks: Map<string, { id: string; created: number }>;
  readonly routes: Map<string, Route>;
  readonly instances: Map<string, Instance>;
  readonly operations: Map<string, Operation>;
  readonly requestIds: Map<string, Operation>;
  /** Route names with an insert in flight: taken for 409 purposes, counted against the quota. */
  readonly inserting: Map<string, string>;
  readonly deleting: Set<string>;
  readonly zones: Set<string>;
}

export interface WorldOptions {
  readonly clock: Clock;
  timing: OperationTiming;
  /** Routes per network (the emulated ROUTES quota). */
  routeQuota: number;
}

export class World {
  readonly projects = new Map<string, Project>();
  readonly opts: WorldOptions;
  /** Injected failures for the next operations, in order. */
  readonly nextOperationFailures: OperationFailure[] = [];
  #nextId = 1_000_000_000_000_000_000n + BigInt(Date.now()) * 1000n;

  constructor(opts: WorldOptions) {
    this.opts = opts;
  }

  now(): number {
    return this.opts.clock.now();
  }

  newId(): string {
    return (this.#nextId++).toString();
  }

  project(name: string, create = false): Project {
    let p = this.projects.get(name);
    if (!p && create) {
      p = {
        name, id: this.newId(), networks: new Map(), routes: new Map(), instances: new Map(), operations: new Map(),
        requestIds: new Map(), inserting: new Map(), deleting: new Set(), zones: new Set(),
      };
      this.projects.set(name, p);
    }
    if (!p) throw notFound(`projects/${name}`);
    return p;
  }

  addNetwork(project: string, name: string, withDefaultRoute = true): void {
    const p = this.project(project, true);
    if (p.networks.has(name)) return;
    p.networks.set(name, { id: this.newId(), created: this.now() });
    if (!withDefaultRoute) return;
    const routeName = `default-route-${randomBytes(8).toString('hex')}`;
    this.seedRoute(project, {
      name: routeName, description: 'Default route to the Internet.', network: `global/networks/${name}`,
      destRange: '0.0.0.0/0', priority: 1000, nextHopGateway: `projects/${project}/global/gateways/default-internet-gateway`,
    });
  }

  addInstance(i: Omit<Instance, 'id' | 'created'>): void {
    const p = this.project(i.project, true);
    p.zones.add(i.zone);
    p.instances.set(`${i.zone}/${i.name}`, { ...i, id: this.newId(), created: this.now() });
  }

  removeInstance(project: string, zone: string, name: string): boolean {
    return this.project(project).instances.delete(`${zone}/${name}`);
  }

  /** Puts a route in place at once (foreign routes, fixtures): no operation, no quota check. */
  seedRoute(project: string, body: unknown): void {
    const p = this.project(project, true);
    const input = validateRouteBody(body, project);
    p.routes.set(input.name, { ...input, id: this.newId(), created: this.now() });
  }

  insertRoute(project: string, body: unknown, requestId: string | undefined): Operation {
    const p = this.project(project);
    const earlier = requestId ? p.requestIds.get(requestId) : undefined;
    if (earlier) return earlier;
    const input = validateRouteBody(body, project);
    this.#checkReferences(input);
    if (p.routes.has(input.name) || p.inserting.has(input.name)) throw alreadyExists(`projects/${project}/global/routes/${input.name}`);
    const id = this.newId();
    const failure = this.nextOperationFailures.shift() ?? this.#quotaFailure(p, input.network.name);
    p.inserting.set(input.name, input.network.name);
    return this.#operation(p, 'insert', input.name, id, requestId, failure, (op) => {
      p.inserting.delete(input.name);
      if (!op.failure) p.routes.set(input.name, { ...input, id, created: op.insertAt });
    });
  }

  deleteRoute(project: string, name: string, requestId: string | undefined): Operation {
    const p = this.project(project);
    const earlier = requestId ? p.requestIds.get(requestId) : undefined;
    if (earlier) return earlier;
    const route = p.routes.get(name);
    if (!route) throw notFound(`projects/${project}/global/routes/${name}`);
    if (p.deleting.has(name)) {
      throw new ApiError(400, 'resourceNotReady', `The resource 'projects/${project}/global/routes/${name}' is not ready`);
    }
    p.deleting.add(name);
    const failure = this.nextOperationFailures.shift();
    return this.#operation(p, 'delete', name, route.id, requestId, failure, (op) => {
      p.deleting.delete(name);
      if (!op.failure) p.routes.delete(name);
    });
  }

  /** Settles every operation whose time has come, in completion order. */
  advance(): void {
    const now = this.now();
    const due: Operation[] = [];
    for (const p of this.projects.values()) for (const op of p.operations.values()) if (!op.settled && op.doneAt <= now) due.push(op);
    due.sort((a, b) => a.doneAt - b.doneAt);
    for (const op of due) {
      op.settled = true;
      op.effect(op);
    }
  }

  routesInNetwork(p: Project, network: string): number {
    let n = 0;
    for (const r of p.routes.values()) if (r.network.name === network && r.network.project === p.name) n++;
    for (const net of p.inserting.values()) if (net === network) n++;
    return n;
  }

  #quotaFailure(p: Project, network: string): OperationFailure | undefined {
    const limit = this.opts.routeQuota;
    if (this.routesInNetwork(p, network) < limit) return undefined;
    return {
      code: 'QUOTA_EXCEEDED',
      message: `Quota 'ROUTES' exceeded.  Limit: ${limit.toFixed(1)} globally.`,
      httpStatus: 403,
      httpMessage: 'FORBIDDEN',
    };
  }

  #checkReferences(input: RouteInput): void {
    const net = this.projects.get(input.network.project)?.networks.has(input.network.name);
    if (!net) throw notFound(`projects/${input.network.project}/global/networks/${input.network.name}`);
    const hop = input.nextHopInstance;
    if (hop && !this.projects.get(hop.project)?.instances.has(`${hop.zone}/${hop.name}`)) {
      throw notFound(`projects/${hop.project}/zones/${hop.zone}/instances/${hop.name}`);
    }
  }

  #operation(
    p: Project, type: Operation['type'], routeName: string, targetId: string, requestId: string | undefined,
    failure: OperationFailure | undefined, effect: (op: Operation) => void,
  ): Operation {
    const insertAt = this.now();
    const runningAt = insertAt + this.opts.timing.pendingMs;
    const name = `operation-${insertAt}-${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
    const op: Operation = {
      id: this.newId(), name, project: p.name, type, routeName, targetId, clientOperationId: requestId,
      insertAt, runningAt, doneAt: runningAt + this.opts.timing.runningMs, failure, settled: false, effect,
    };
    p.operations.set(name, op);
    if (requestId) p.requestIds.set(requestId, op);
    this.#forgetOldOperations(p);
    return op;
  }

  /** GCE keeps finished operations for a limited time; a long-running emulator keeps the newest 10,000. */
  #forgetOldOperations(p: Project): void {
    if (p.operations.size <= MAX_OPERATIONS) return;
    for (const [name, op] of p.operations) {
      if (p.operations.size <= MAX_OPERATIONS) break;
      if (!op.settled) continue;
      p.operations.delete(name);
      if (op.clientOperationId) p.requestIds.delete(op.clientOperationId);
    }
  }
}
