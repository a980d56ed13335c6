// API action → the permissions it needs, per cloud, and the permissions each
// Terraform module grants (read from the parsed HCL, not from a copy).
//   AWS: IAM actions are the EC2 API action names: CreateRoute → ec2:CreateRoute.
//   Alibaba Cloud: RAM actions are the VPC API action names: CreateRouteEntry → vpc:CreateRouteEntry.
//   GCE: a method needs one or more permissions (Compute Engine's IAM reference);
//   routes.insert/delete also need networks.updatePolicy on the network.
import { locals, parseTf, typed } from './hcl.ts';

export type PermissionTable = (action: string) => readonly string[] | undefined;

export const AWS_PERMISSIONS: PermissionTable = (action) => [`ec2:${action}`];
export const ALICLOUD_PERMISSIONS: PermissionTable = (action) => [`vpc:${action}`];

const GCE: Readonly<Record<string, readonly string[]>> = {
  'routes.list': ['compute.routes.list'],
  'routes.get': ['compute.routes.get'],
  // A route whose next hop is an instance uses that instance.
  'routes.insert': ['compute.routes.create', 'compute.networks.updatePolicy', 'compute.instances.use'],
  'routes.delete': ['compute.routes.delete', 'compute.networks.updatePolicy'],
  'globalOperations.get': ['compute.globalOperations.get'],
  'globalOperations.wait': ['compute.globalOperations.get'],
  'instances.get': ['compute.instances.get'],
  'instances.list': ['compute.instances.list'],
  'instances.aggregatedList': ['compute.instances.list'],
  'networks.get': ['compute.networks.get'],
  'projects.get': ['compute.projects.get'],
};
export const GCE_PERMISSIONS: PermissionTable = (method) => GCE[method];

/** Permission → the actions that need it; an action the table does not know fails, naming it. */
export function permissionsFor(actions: Iterable<string>, table: PermissionTable): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of actions) {
    const perms = table(a);
    if (!perms) throw new Error(`API action ${a} has no permission mapping: add it to test/terraform/policies.ts (and to the module)`);
    for (const p of perms) out.set(p, [...(out.get(p) ?? []), a]);
  }
  return out;
}

function only<T>(pairs: [string, T][], what: string): T {
  if (pairs.length !== 1) throw new Error(`expected one ${what}, found ${pairs.length}`);
  return pairs[0]![1];
}

/** The permissions the module in `file` grants the controller. */
export async function granted(cloud: 'aws' | 'gce' | 'alicloud', file: string): Promise<Set<string>> {
  const json = await parseTf(file);
  if (cloud === 'aws') {
    const doc = only(typed(json, 'data').filter(([n]) => n === 'aws_iam_policy_document.controller'), 'aws_iam_policy_document.controller');
    return new Set((doc.statement as { actions: string[] }[]).flatMap((s) => s.actions));
  }
  if (cloud === 'gce') {
    const role = only(typed(json, 'resource').filter(([n]) => n === 'google_project_iam_custom_role.controller'), 'google_project_iam_custom_role.controller');
    return new Set(role.permissions as string[]);
  }
  // The RAM policy document is jsonencode(...) of local.actions: the list is read from the locals.
  return new Set(only(locals(json).filter(([k]) => k === 'ram_actions'), 'local.ram_actions') as string[]);
}
