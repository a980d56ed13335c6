// The udp data path's counters as Prometheus metrics, read at scrape time.
import { Counter, type Registry } from 'prom-client';
import type { UdpCounters } from './dataplane.ts';

export function registerUdpMetrics(registry: Registry, c: UdpCounters): void {
  new Counter({
    name: 'tartan_udp_packets_total', help: 'Packets the udp backend carried, by direction (tx: flannel0 → peer, rx: peer → flannel0)',
    labelNames: ['direction'], registers: [registry],
    collect() {
      this.reset();
      this.inc({ direction: 'tx' }, c.txPackets);
      this.inc({ direction: 'rx' }, c.rxPackets);
    },
  });
  new Counter({
    name: 'tartan_udp_dropped_total', help: 'Packets and datagrams the udp backend dropped, by reason (bad-datagram: a datagram from the network that is no IPv4 packet)',
    labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      const reasons: Record<string, number> = {
        'bad-datagram': c.rxBad, 'ttl-rx': c.rxTtl, 'ttl-tx': c.txTtl, 'no-peer': c.txNoPeer, 'not-ipv4': c.txNotIpv4,
        'too-big': c.txTooBig, 'send-error': c.sendErrors, 'tun-write-error': c.tunWriteErrors, 'poll-error': c.pollErrors,
      };
      for (const [reason, n] of Object.entries(reasons)) this.inc({ reason }, n);
    },
  });
}
