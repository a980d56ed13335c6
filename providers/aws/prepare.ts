// Pure planning for HostPreparer: which hosts need SourceDestCheck turned off.
// The instance attribute (ModifyInstanceAttribute) is its primary interface's flag;
// a secondary interface has its own (ModifyNetworkInterfaceAttribute).
import type { NextHop } from '../route-table.ts';
import type { Ec2Instance } from './api.ts';

export type Decision =
  | { readonly action: 'ok' }
  /** `networkInterfaceId`: a secondary interface, fixed on its own; else the instance's attribute. */
  | { readonly action: 'fix'; readonly instanceId: string; readonly networkInterfaceId?: string }
  | { readonly action: 'unfixable'; readonly reason: string };

export function decide(hop: NextHop, instances: readonly Ec2Instance[]): Decision {
  if (hop.kind === 'instance') {
    const instance = instances.find((i) => i.id === hop.id);
    if (!instance) return { action: 'unfixable', reason: `instance ${hop.id} not found` };
    if (instance.state === 'terminated' || instance.state === 'shutting-down') {
      return { action: 'unfixable', reason: `instance ${hop.id} is ${instance.state}` };
    }
    return instance.sourceDestCheck === false ? { action: 'ok' } : { action: 'fix', instanceId: instance.id };
  }
  const instance = instances.find((i) => i.enis.some((e) => e.id === hop.id));
  const eni = instance?.enis.find((e) => e.id === hop.id);
  if (!instance || !eni) return { action: 'unfixable', reason: `network interface ${hop.id} not found on any instance` };
  if (eni.sourceDestCheck === false) return { action: 'ok' };
  return eni.deviceIndex === 0 ? { action: 'fix', instanceId: instance.id } : { action: 'fix', instanceId: instance.id, networkInterfaceId: eni.id };
}
