import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetworkConfig } from '../../../config/network.ts';
import { parseUdpConfig } from './config.ts';

describe('parseUdpConfig', () => {
  const cases: Array<{ description: string; config: object; want: number | RegExp }> = [
    { description: 'no Port: flannel\'s 8285', config: { Network: '10.5.0.0/16', Backend: { Type: 'udp' } }, want: 8285 },
    { description: 'Port 0 means the default', config: { Network: '10.5.0.0/16', Backend: { Type: 'udp', Port: 0 } }, want: 8285 },
    { description: 'Port given (key case-insensitive)', config: { Network: '10.5.0.0/16', Backend: { Type: 'udp', port: 9000 } }, want: 9000 },
    { description: 'Port out of range', config: { Network: '10.5.0.0/16', Backend: { Type: 'udp', Port: 70000 } }, want: /Backend\.Port: .*70000/ },
    { description: 'Port not a number', config: { Network: '10.5.0.0/16', Backend: { Type: 'udp', Port: '8285' } }, want: /Backend\.Port: .*"8285"/ },
    { description: 'IPv6: refused, as flannel\'s udp has none', config: { Network: '10.5.0.0/16', EnableIPv6: true, IPv6Network: 'fd00::/56', Backend: { Type: 'udp' } }, want: /EnableIPv6: .*IPv4 only/ },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const network = parseNetworkConfig(JSON.stringify(c.config));
      if (typeof c.want === 'number') assert.equal(parseUdpConfig(network).port, c.want);
      else assert.throws(() => parseUdpConfig(network), c.want);
    });
  }
});
