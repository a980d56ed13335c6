// A byte-level flannel udp host, run inside a lab namespace (`ip netns exec`):
// bound to <address>:<port>, it logs every datagram as a JSON line, answers ICMP
// echo requests to its pod subnet with echo replies (as a pod behind flanneld
// would, TTL 64), and on stdin `ping <src> <dst> <host> <ttl>` sends one raw
// echo request to <host>:<port>. Nothing of tartan is imported: the wire format
// is written out here by hand, from flannel's proxy_amd64.c.
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

const [address = '', portText = '8285'] = process.argv.slice(2);
const port = Number(portText);
const socket = dgram.createSocket('udp4');

function checksum(buf: Buffer, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < len; i += 2) sum += buf.readUInt16BE(off + i);
  if (len % 2) sum += buf[off + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function echo(type: 0 | 8, src: string, dst: string, ttl: number, id: number, seq: number, payload: Buffer): Buffer {
  const pkt = Buffer.alloc(28 + payload.length);
  pkt[0] = 0x45;
  pkt.writeUInt16BE(pkt.length, 2);
  pkt.writeUInt16BE(0x4000, 6); // DF
  pkt[8] = ttl;
  pkt[9] = 1;
  Buffer.from(src.split('.').map(Number)).copy(pkt, 12);
  Buffer.from(dst.split('.').map(Number)).copy(pkt, 16);
  pkt.writeUInt16BE(checksum(pkt, 0, 20), 10);
  pkt[20] = type;
  pkt.writeUInt16BE(id, 24);
  pkt.writeUInt16BE(seq, 26);
  payload.copy(pkt, 28);
  pkt.writeUInt16BE(checksum(pkt, 20, pkt.length - 20), 22);
  return pkt;
}

const ip = (b: Buffer, off: number): string => [...b.subarray(off, off + 4)].join('.');

socket.on('message', (m, from) => {
  const hl = (m[0]! & 0x0f) * 4;
  const icmpType = m[9] === 1 ? m[hl] : undefined;
  process.stdout.write(`${JSON.stringify({
    from: from.address, port: from.port, length: m.length, src: ip(m, 12), dst: ip(m, 16), ttl: m[8], proto: m[9], icmpType,
    headerChecksumOk: checksum(m, 0, hl) === 0, hex: m.toString('hex'),
  })}\n`);
  if (icmpType === 8) {
    const reply = echo(0, ip(m, 16), ip(m, 12), 64, m.readUInt16BE(hl + 4), m.readUInt16BE(hl + 6), m.subarray(hl + 8));
    socket.send(reply, port, from.address);
  }
});

socket.bind(port, address, () => {
  process.stdout.write('ready\n');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, src = '', dst = '', host = '', ttl = '64'] = line.trim().split(/\s+/);
    if (cmd === 'ping') socket.send(echo(8, src, dst, Number(ttl), 0x7a7a, 1, Buffer.from('tartan-udp-wire')), port, host);
  });
  process.stdin.on('end', () => socket.close());
});
