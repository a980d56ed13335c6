// The thin wrapper around @aws-sdk/client-ec2: the only file that imports the SDK.
// It turns SDK shapes into small plain records and SDK failures into Ec2ApiError.
// The SDK's own retries are off (maxAttempts 1): retries are the provider's, so
// each one is rate-limited and counted.
//
// `beforeSend` runs inside the SDK's pipeline just before signing and sending. A
// client-side rate limit has to wait there: waiting before client.send() lets a
// burst that the SDK is still serializing (or loading credentials for) leave later
// and all at once, faster than the bucket meant.
import {
  CreateRouteCommand, DeleteRouteCommand, DescribeInstancesCommand, DescribeRouteTablesCommand, EC2Client,
  EC2ServiceException, type Instance, ModifyInstanceAttributeCommand, ModifyNetworkInterfaceAttributeCommand, ReplaceRouteCommand, type Route, type RouteTable,
} from '@aws-sdk/client-ec2';
import type { NextHop } from '../route-table.ts';

export interface Ec2ApiOptions {
  readonly region?: string | undefined;
  /** e.g. http://127.0.0.1:4566 (emulator) or a VPC endpoint. */
  readonly endpoint?: string | undefined;
  /** Explicit keys; the SDK's default chain (env, profile, IMDS, …) when absent. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined } | undefined;
  readonly requestTimeoutMs?: number | undefined;
  /** Awaited right before each request is signed and sent (each attempt). */
  readonly beforeSend?: ((operation: Ec2Operation, signal: AbortSignal) => Promise<void>) | undefined;
}

export type Ec2Operation =
  | 'DescribeRouteTables' | 'DescribeInstances' | 'CreateRoute' | 'ReplaceRoute' | 'DeleteRoute' | 'ModifyInstanceAttribute' | 'ModifyNetworkInterfaceAttribute';

export interface Ec2Filter {
  readonly name: string;
  readonly values: readonly string[];
}

export interface Ec2Route {
  /** IPv4 or IPv6 destination; undefined for prefix-list routes. */
  readonly destination: string | undefined;
  readonly gatewayId?: string | undefined;
  readonly instanceId?: string | undefined;
  readonly networkInterfaceId?: string | undefined;
  /** Any other target (peering, NAT, transit gateway, …) by id. */
  readonly otherTarget?: string | undefined;
  readonly state: string | undefined;
  readonly origin: string | undefined;
}

export interface Ec2RouteTable {
  readonly id: string;
  readonly vpcId: string | undefined;
  readonly routes: readonly Ec2Route[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface Ec2Eni {
  readonly id: string;
  readonly deviceIndex: number | undefined;
  readonly privateIps: readonly string[];
  readonly sourceDestCheck: boolean | undefined;
}

export interface Ec2Instance {
  readonly id: string;
  readonly state: string | undefined;
  readonly vpcId: string | undefined;
  readonly privateIp: string | undefined;
  readonly sourceDestCheck: boolean | undefined;
  readonly enis: readonly Ec2Eni[];
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken?: string | undefined;
}

export interface PageQuery {
  readonly ids?: readonly string[] | undefined;
  readonly filters?: readonly Ec2Filter[] | undefined;
  readonly maxResults?: number | undefined;
  readonly nextToken?: string | undefined;
}

export interface RouteWrite {
  readonly table: string;
  /** Canonical CIDR; IPv6 when it contains a colon. */
  readonly destination: string;
  readonly target: NextHop;
}

export interface Ec2Api {
  describeRouteTables(q: PageQuery, signal: AbortSignal): Promise<Page<Ec2RouteTable>>;
  describeInstances(q: Omit<PageQuery, 'ids'>, signal: AbortSignal): Promise<Page<Ec2Instance>>;
  createRoute(r: RouteWrite, signal: AbortSignal): Promise<void>;
  replaceRoute(r: RouteWrite, signal: AbortSignal): Promise<void>;
  deleteRoute(r: { readonly table: string; readonly destination: string }, signal: AbortSignal): Promise<void>;
  /** The instance's attribute: its primary interface's flag. */
  setSourceDestCheck(r: { readonly instanceId: string; readonly value: boolean }, signal: AbortSignal): Promise<void>;
  /** One interface's flag (a secondary interface has its own). */
  setInterfaceSourceDestCheck(r: { readonly networkInterfaceId: string; readonly value: boolean }, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** What went wrong, as the provider needs to know it. */
export type Ec2FailureKind = 'throttled' | 'server' | 'network' | 'client';

export class Ec2ApiError extends Error {
  /** EC2 error code (RouteAlreadyExists, …) or the socket error code (ECONNRESET, …). */
  readonly code: string;
  readonly status: number | undefined;
  readonly kind: Ec2FailureKind;
  constructor(code: string, message: string, kind: Ec2FailureKind, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Ec2ApiError';
    this.code = code;
    this.kind = kind;
    this.status = status;
  }
}

const THROTTLE_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function createEc2Api(opts: Ec2ApiOptions): Ec2Api {
  const agent = { keepAlive: true, maxSockets: 256 }; // more than both buckets' bursts: no queueing after the token is taken
  const client = new EC2Client({
    region: opts.region,
    endpoint: opts.endpoint,
    credentials: opts.credentials,
    maxAttempts: 1,
    // throwOnRequestTimeout: without it a request past requestTimeout only prints a
    // warning and keeps waiting, so a stalled API hangs the pass (issue 18).
    requestHandler: {
      requestTimeout: opts.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000, socketTimeout: opts.requestTimeoutMs ?? 30_000,
      throwOnRequestTimeout: true, httpAgent: agent, httpsAgent: agent,
    },
  });
  const call = async <T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw signal.aborted ? err : translate(err);
    }
  };
  const prepared = <C extends { middlewareStack: unknown }>(operation: Ec2Operation, command: C, signal: AbortSignal): C => {
    const beforeSend = opts.beforeSend;
    if (beforeSend) waitBeforeSigning(command, () => beforeSend(operation, signal));
    return command;
  };
  return {
    describeRouteTables: (q, signal) => call(signal, async () => {
      const input = { RouteTableIds: q.ids && [...q.ids], Filters: sdkFilters(q.filters), MaxResults: q.maxResults, NextToken: q.nextToken };
      const out = await client.send(prepared('DescribeRouteTables', new DescribeRouteTablesCommand(input), signal), { abortSignal: signal });
      return { items: (out.RouteTables ?? []).map(toTable), nextToken: out.NextToken };
    }),
    describeInstances: (q, signal) => call(signal, async () => {
      const input = { Filters: sdkFilters(q.filters), MaxResults: q.maxResults, NextToken: q.nextToken };
      const out = await client.send(prepared('DescribeInstances', new DescribeInstancesCommand(input), signal), { abortSignal: signal });
      return { items: (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map(toInstance), nextToken: out.NextToken };
    }),
    createRoute: (r, signal) => call(signal, async () => {
      const input = { RouteTableId: r.table, ...destinationParam(r.destination), ...targetParam(r.target) };
      await client.send(prepared('CreateRoute', new CreateRouteCommand(input), signal), { abortSignal: signal });
    }),
    replaceRoute: (r, signal) => call(signal, async () => {
      const input = { RouteTableId: r.table, ...destinationParam(r.destination), ...targetParam(r.target) };
      await client.send(prepared('ReplaceRoute', new ReplaceRouteCommand(input), signal), { abortSignal: signal });
    }),
    deleteRoute: (r, signal) => call(signal, async () => {
      const input = { RouteTableId: r.table, ...destinationParam(r.destination) };
      await client.send(prepared('DeleteRoute', new DeleteRouteCommand(input), signal), { abortSignal: signal });
    }),
    setSourceDestCheck: (r, signal) => call(signal, async () => {
      const input = { InstanceId: r.instanceId, SourceDestCheck: { Value: r.value } };
      await client.send(prepared('ModifyInstanceAttribute', new ModifyInstanceAttributeCommand(input), signal), { abortSignal: signal });
    }),
    setInterfaceSourceDestCheck: (r, signal) => call(signal, async () => {
      const input = { NetworkInterfaceId: r.networkInterfaceId, SourceDestCheck: { Value: r.value } };
      await client.send(prepared('ModifyNetworkInterfaceAttribute', new ModifyNetworkInterfaceAttributeCommand(input), signal), { abortSignal: signal });
    }),
    close: () => client.destroy(),
  };
}

type Next = (args: unknown) => Promise<unknown>;

/** Adds a step to this command's pipeline that awaits `wait` right before the signer. */
function waitBeforeSigning(command: { middlewareStack: unknown }, wait: () => Promise<void>): void {
  const stack = command.middlewareStack as {
    addRelativeTo(mw: (next: Next) => Next, o: { relation: 'before'; toMiddleware: string; name: string }): void;
  };
  stack.addRelativeTo((next) => async (args) => {
    await wait();
    return next(args);
  }, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'tartanBeforeSend' });
}

function translate(err: unknown): unknown {
  if (err instanceof EC2ServiceException) {
    const status = err.$metadata.httpStatusCode;
    const kind: Ec2FailureKind = THROTTLE_CODES.has(err.name) ? 'throttled' : (status ?? 500) >= 500 ? 'server' : 'client';
    return new Ec2ApiError(err.name, err.message, kind, status, { cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return new Ec2ApiError(code, `connection failed: ${code}`, 'network', undefined, { cause: err });
  if (err instanceof Error && err.name === 'TimeoutError') return new Ec2ApiError('TimeoutError', err.message, 'network', undefined, { cause: err });
  return err;
}

function sdkFilters(filters: readonly Ec2Filter[] | undefined): { Name: string; Values: string[] }[] | undefined {
  return filters?.map((f) => ({ Name: f.name, Values: [...f.values] }));
}

function destinationParam(destination: string): { DestinationCidrBlock: string } | { DestinationIpv6CidrBlock: string } {
  return destination.includes(':') ? { DestinationIpv6CidrBlock: destination } : { DestinationCidrBlock: destination };
}

function targetParam(hop: NextHop): { InstanceId: string } | { NetworkInterfaceId: string } {
  return hop.kind === 'instance' ? { InstanceId: hop.id } : { NetworkInterfaceId: hop.id };
}

function toTable(t: RouteTable): Ec2RouteTable {
  return {
    id: t.RouteTableId ?? '',
    vpcId: t.VpcId,
    routes: (t.Routes ?? []).map(toRoute),
    tags: Object.fromEntries((t.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  };
}

function toRoute(r: Route): Ec2Route {
  return {
    destination: r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock,
    gatewayId: r.GatewayId,
    instanceId: r.InstanceId,
    networkInterfaceId: r.NetworkInterfaceId,
    otherTarget: r.VpcPeeringConnectionId ?? r.NatGatewayId ?? r.TransitGatewayId ?? r.EgressOnlyInternetGatewayId ??
      r.LocalGatewayId ?? r.CarrierGatewayId ?? r.CoreNetworkArn,
    state: r.State,
    origin: r.Origin,
  };
}

function toInstance(i: Instance): Ec2Instance {
  return {
    id: i.InstanceId ?? '',
    state: i.State?.Name,
    vpcId: i.VpcId,
    privateIp: i.PrivateIpAddress,
    sourceDestCheck: i.SourceDestCheck,
    enis: (i.NetworkInterfaces ?? []).map((n) => ({
      id: n.NetworkInterfaceId ?? '',
      deviceIndex: n.Attachment?.DeviceIndex,
      privateIps: (n.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress ?? '').filter((ip) => ip !== ''),
      sourceDestCheck: n.SourceDestCheck,
    })),
  };
}
