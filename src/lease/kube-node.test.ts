import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { annotationKeys, annotationPatch, heartbeatAnnotation, nodeLease, nodePodCidrs, nodeView, ownAnnotations } from './kube-node.ts';

describe('annotation prefix (flannel\'s normalisation)', () => {
  const rows: [string, string | RegExp][] = [
    ['flannel.alpha.coreos.com', 'flannel.alpha.coreos.com/backend-data'],
    ['example.com', 'example.com/backend-data'],
    ['example.com/', 'example.com/backend-data'],
    ['example.com/flannel', 'example.com/flannel-backend-data'],
    ['example.com/flannel-', 'example.com/flannel-backend-data'],
    ['example.com/a/b', /may hold one "\/" at most/],
    ['Example.com', /must be a DNS name/],
    ['example.com/UP', /must be a DNS name/],
  ];
  for (const [prefix, want] of rows) {
    test(`${prefix} → ${String(want)}`, () => {
      if (typeof want === 'string') assert.equal(annotationKeys(prefix).backendData, want);
      else assert.throws(() => annotationKeys(prefix), want);
    });
  }
});

const keys = annotationKeys();
const node = (spec: Record<string, unknown>, annotations: Record<string, string>): ReturnType<typeof nodeView> =>
  nodeView({ metadata: { name: 'n1', annotations, creationTimestamp: '2026-01-01T00:00:00Z' }, spec, status: { images: [] } });
const managed = { [keys.subnetManager]: 'true', [keys.backendType]: 'vxlan', [keys.backendData]: '{"VNI":1,"VtepMAC":"02:00:00:00:00:01"}', [keys.publicIp]: '192.168.0.1' };

describe('nodeLease (flannel\'s nodeToLease)', () => {
  const rows: { name: string; spec: Record<string, unknown>; ann: Record<string, string>; ipv6?: boolean; want: string | RegExp }[] = [
    { name: 'flannel vxlan node', spec: { podCIDR: '10.244.1.0/24' }, ann: managed, want: 'lease 10.244.1.0-24 192.168.0.1 vxlan' },
    { name: 'podCIDRs wins over podCIDR', spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] }, ann: managed, want: 'lease 10.244.1.0-24 192.168.0.1 vxlan' },
    { name: 'kube-subnet-manager not exactly "true"', spec: { podCIDR: '10.244.1.0/24' }, ann: { ...managed, [keys.subnetManager]: 'True' }, want: 'unmanaged' },
    { name: 'no annotations', spec: { podCIDR: '10.244.1.0/24' }, ann: {}, want: 'unmanaged' },
    { name: 'no podCIDR', spec: {}, ann: managed, want: /spec\.podCIDRs: missing an IPv4 CIDR/ },
    { name: 'bad podCIDR', spec: { podCIDR: '10.244.1/24' }, ann: managed, want: /node n1 spec\.podCIDRs/ },
    { name: 'three podCIDRs', spec: { podCIDRs: ['10.244.1.0/24', 'fc00::/64', '10.244.2.0/24'] }, ann: managed, want: /at most one per family/ },
    { name: 'two IPv4 podCIDRs', spec: { podCIDRs: ['10.244.1.0/24', '10.244.2.0/24'] }, ann: managed, want: /two CIDRs of one family/ },
    { name: 'public-ip missing', spec: { podCIDR: '10.244.1.0/24' }, ann: { ...managed, [keys.publicIp]: undefined! }, want: /annotation flannel\.alpha\.coreos\.com\/public-ip: missing/ },
    { name: 'public-ip not an IP', spec: { podCIDR: '10.244.1.0/24' }, ann: { ...managed, [keys.publicIp]: 'ten' }, want: /annotation flannel\.alpha\.coreos\.com\/public-ip/ },
    { name: 'public-ip IPv6', spec: { podCIDR: '10.244.1.0/24' }, ann: { ...managed, [keys.publicIp]: 'fc00::1' }, want: /must be an IPv4 address/ },
    { name: 'backend-data not JSON', spec: { podCIDR: '10.244.1.0/24' }, ann: { ...managed, [keys.backendData]: '{' }, want: /backend-data: is not JSON/ },
    { name: 'host-gw backend-data null', spec: { podCIDR: '10.244.1.0/24' }, ann: { ...managed, [keys.backendType]: 'host-gw', [keys.backendData]: 'null' }, want: 'lease 10.244.1.0-24 192.168.0.1 host-gw' },
    { name: 'dual-stack node, IPv6 off', spec: { podCIDRs: ['10.244.1.0/24', 'fc00:1::/64'] }, ann: { ...managed, [keys.publicIpv6]: 'fc00::1' }, want: 'lease 10.244.1.0-24 192.168.0.1 vxlan' },
    { name: 'dual-stack node, IPv6 on', ipv6: true, spec: { podCIDRs: ['10.244.1.0/24', 'fc00:1::/64'] }, ann: { ...managed, [keys.publicIpv6]: 'fc00::1', [keys.backendV6Data]: 'null' }, want: 'lease 10.244.1.0-24&fc00:1::-64 192.168.0.1 vxlan' },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const ann = Object.fromEntries(Object.entries(r.ann).filter(([, v]) => v !== undefined));
      const got = nodeLease(node(r.spec, ann), keys, { ipv6: r.ipv6 ?? false, revision: 1 });
      const text = got.kind === 'lease' ? `lease ${got.lease.key} ${got.lease.attrs.publicIp} ${got.lease.attrs.backendType}` : got.kind === 'malformed' ? got.error.message : 'unmanaged';
      if (typeof r.want === 'string') assert.equal(text, r.want);
      else assert.match(text, r.want);
    });
  }

  test('the view keeps no status', () => {
    assert.equal('status' in node({ podCIDR: '10.244.1.0/24' }, managed), false);
  });

  test('podCIDR alone is classified by family', () => {
    assert.equal(nodePodCidrs(node({ podCIDR: 'fc00::/64' }, {})).v6?.family, 6);
  });
});

describe('own annotations and their patch', () => {
  test('exactly flannel\'s keys and values; public-ip-overwrite wins', () => {
    const attrs = { publicIp: '192.168.0.9', backendType: 'vxlan', backendData: { VNI: 1, VtepMAC: '02:00:00:00:00:09' } };
    assert.deepEqual(ownAnnotations(attrs, keys, {}), {
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"02:00:00:00:00:09"}',
      'flannel.alpha.coreos.com/public-ip': '192.168.0.9',
    });
    assert.equal(ownAnnotations(attrs, keys, { [keys.publicIpOverwrite]: '203.0.113.1' })[keys.publicIp], '203.0.113.1');
    assert.equal(ownAnnotations({ publicIp: '192.168.0.9', backendType: 'host-gw' }, keys, {})[keys.backendData], 'null');
  });

  test('the patch holds only what differs; null deletes; nothing differs → no patch', () => {
    assert.deepEqual(annotationPatch({ a: '1', b: '2' }, { a: '1', b: '3', c: null }), { metadata: { annotations: { b: '3' } } });
    assert.deepEqual(annotationPatch({ c: 'x' }, { c: null }), { metadata: { annotations: { c: null } } });
    assert.equal(annotationPatch({ a: '1' }, { a: '1' }), undefined);
  });

  test('heartbeat keys are valid annotation names and differ per route domain', () => {
    const a = heartbeatAnnotation('gce:projects/p/global/networks/n');
    assert.match(a, /^tartan\.io\/[a-z0-9-]{1,63}$/);
    assert.notEqual(a, heartbeatAnnotation('aws:vpc-1'));
  });
});
