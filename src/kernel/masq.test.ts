import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../net/cidr.ts';
import { type MasqSpec, renderMasqRuleset } from './masq.ts';

const v4 = { network: parseCidr('10.244.0.0/16'), subnet: parseCidr('10.244.3.0/24') };
const v6 = { network: parseCidr('fd00:5::/48'), subnet: parseCidr('fd00:5:0:3::/64') };

/** The rule lines of one chain (between its `chain <name> {` and the closing brace). */
function chain(text: string, name: string): string[] {
  const lines = text.split('\n').map((l) => l.trim());
  const start = lines.indexOf(`chain ${name} {`);
  assert.ok(start >= 0, `chain ${name} missing`);
  return lines.slice(start + 2, lines.indexOf('}', start));
}

describe('renderMasqRuleset', () => {
  const cases: Array<{ description: string; spec: MasqSpec; postrouting: string[]; forward: string[] }> = [
    {
      description: 'IPv4: flannel\'s rules in flannel\'s order',
      spec: { ipv4: v4 },
      postrouting: [
        'meta mark & 0x00004000 == 0x00004000 return',
        'ip saddr 10.244.3.0/24 ip daddr 10.244.0.0/16 return',
        'ip saddr 10.244.0.0/16 ip daddr 10.244.3.0/24 return',
        'ip saddr != 10.244.0.0/16 ip daddr 10.244.3.0/24 return',
        'ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random',
        'ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random',
      ],
      forward: ['ip saddr 10.244.0.0/16 accept', 'ip daddr 10.244.0.0/16 accept'],
    },
    {
      description: 'IPv6 only: the same rules with ff00::/8 as multicast',
      spec: { ipv6: v6 },
      postrouting: [
        'meta mark & 0x00004000 == 0x00004000 return',
        'ip6 saddr fd00:5:0:3::/64 ip6 daddr fd00:5::/48 return',
        'ip6 saddr fd00:5::/48 ip6 daddr fd00:5:0:3::/64 return',
        'ip6 saddr != fd00:5::/48 ip6 daddr fd00:5:0:3::/64 return',
        'ip6 saddr fd00:5::/48 ip6 daddr != ff00::/8 masquerade fully-random',
        'ip6 saddr != fd00:5::/48 ip6 daddr fd00:5::/48 masquerade fully-random',
      ],
      forward: ['ip6 saddr fd00:5::/48 accept', 'ip6 daddr fd00:5::/48 accept'],
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const text = renderMasqRuleset(c.spec);
      assert.deepEqual(chain(text, 'postrouting'), c.postrouting);
      assert.deepEqual(chain(text, 'forward'), c.forward);
    });
  }

  it('dual-stack: both families in ONE inet table', () => {
    const text = renderMasqRuleset({ ipv4: v4, ipv6: v6 });
    assert.equal(chain(text, 'postrouting').length, 11);
    assert.equal(chain(text, 'forward').length, 4);
    assert.equal(text.match(/^table inet tartan \{$/gm)?.length, 1);
  });

  it('replaces the table in one transaction: add (so delete cannot fail), delete, add with the rules', () => {
    const lines = renderMasqRuleset({ ipv4: v4 }).split('\n');
    assert.deepEqual(lines.slice(0, 3), ['add table inet tartan', 'delete table inet tartan', 'table inet tartan {']);
  });

  it('base chains hook nat postrouting (srcnat) and filter forward, policy accept', () => {
    const text = renderMasqRuleset({ ipv4: v4 });
    assert.match(text, /chain postrouting \{\n\t\ttype nat hook postrouting priority srcnat; policy accept;/);
    assert.match(text, /chain forward \{\n\t\ttype filter hook forward priority filter; policy accept;/);
  });
});
