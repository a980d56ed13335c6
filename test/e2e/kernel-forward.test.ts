// The forward rules' I/O against real iptables and ip6tables (whatever backend the
// host's alternatives pick) in a lab host: both families, a re-apply that changes
// nothing, a repair, and a removal that leaves everyone else's rules alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyForwardRules, removeForwardRules } from '../../src/kernel/forward.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { filterTable } from '../lab/docker.ts';
import { type Lab, type LabHost, createLab } from '../lab/lab.ts';
import { nsExec } from '../lab/netns.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: builds network namespaces';
const MARK = '-m comment --comment "tartan forward"';
const spec = { ipv4: parseCidr('10.42.0.0/16'), ipv6: parseCidr('fd42::/48') };

/** FORWARD's and TARTAN-FWD's rules, and whether the chain exists. */
async function rules(host: LabHost, family: 4 | 6): Promise<string[]> {
  return (await filterTable(host, family)).split('\n').filter((l) => l.startsWith('-A FORWARD') || l.includes('TARTAN-FWD'));
}

describe('kernel: iptables forward rules (TARTAN-FWD) in both families', { skip }, () => {
  let lab: Lab;
  let host: LabHost;

  before(async () => {
    lab = await createLab({ hosts: 1, podsPerHost: 0, dualStack: true });
    host = lab.hosts[0]!;
    // Someone else's rules, first in FORWARD: the jump goes before them, and they survive removal.
    await nsExec(host.ns, 'iptables', ['-A', 'FORWARD', '-s', '192.0.2.0/24', '-j', 'DROP']);
    await nsExec(host.ns, 'ip6tables', ['-A', 'FORWARD', '-s', '2001:db8::/32', '-j', 'DROP']);
  });
  after(async () => {
    await lab?.destroy();
  });

  it('applies the jump and the Network accepts through iptables and ip6tables', async () => {
    assert.ok(await applyForwardRules(spec, { netns: host.ns }) > 0);
    assert.deepEqual(await rules(host, 4), [
      ':TARTAN-FWD - [0:0]', `-A FORWARD ${MARK} -j TARTAN-FWD`, '-A FORWARD -s 192.0.2.0/24 -j DROP',
      `-A TARTAN-FWD -s 10.42.0.0/16 ${MARK} -j ACCEPT`, `-A TARTAN-FWD -d 10.42.0.0/16 ${MARK} -j ACCEPT`,
    ]);
    assert.deepEqual(await rules(host, 6), [
      ':TARTAN-FWD - [0:0]', `-A FORWARD ${MARK} -j TARTAN-FWD`, '-A FORWARD -s 2001:db8::/32 -j DROP',
      `-A TARTAN-FWD -s fd42::/48 ${MARK} -j ACCEPT`, `-A TARTAN-FWD -d fd42::/48 ${MARK} -j ACCEPT`,
    ]);
  });

  it('re-applying changes nothing', async () => {
    const [v4, v6] = [await rules(host, 4), await rules(host, 6)];
    assert.equal(await applyForwardRules(spec, { netns: host.ns }), 0);
    assert.equal(await applyForwardRules(spec, { netns: host.ns }), 0);
    assert.deepEqual([await rules(host, 4), await rules(host, 6)], [v4, v6]);
  });

  it('a doubled jump and a flushed chain are repaired to exactly one of each', async () => {
    const v4 = await rules(host, 4);
    await nsExec(host.ns, 'iptables', ['-A', 'FORWARD', '-m', 'comment', '--comment', 'tartan forward', '-j', 'TARTAN-FWD']);
    await nsExec(host.ns, 'iptables', ['-F', 'TARTAN-FWD']);
    assert.ok(await applyForwardRules(spec, { netns: host.ns }) > 0);
    assert.deepEqual(await rules(host, 4), v4);
  });

  it('an IPv4-only spec takes tartan\'s IPv6 rules away and keeps the IPv4 ones', async () => {
    const v4 = await rules(host, 4);
    await applyForwardRules({ ipv4: spec.ipv4 }, { netns: host.ns });
    assert.deepEqual(await rules(host, 4), v4);
    assert.deepEqual(await rules(host, 6), ['-A FORWARD -s 2001:db8::/32 -j DROP']);
  });

  it('removal takes away only tartan\'s jump and chain, and is a no-op the second time', async () => {
    await applyForwardRules(spec, { netns: host.ns });
    assert.ok(await removeForwardRules({ netns: host.ns }) > 0);
    assert.equal(await removeForwardRules({ netns: host.ns }), 0);
    assert.deepEqual(await rules(host, 4), ['-A FORWARD -s 192.0.2.0/24 -j DROP']);
    assert.deepEqual(await rules(host, 6), ['-A FORWARD -s 2001:db8::/32 -j DROP']);
  });
});
