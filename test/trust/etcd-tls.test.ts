// etcd with mTLS (--client-cert-auth) and then auth with deploy/etcd/roles.sh's
// least-privilege roles, all real: etcd 3.4, certificates made with openssl, the
// `tartan` CLI as processes. A wrong CA, an expired or untrusted client certificate,
// a certificate whose CN is no etcd user, a wrong password: exit 2, one error naming
// the flag and the cause, a handful of TLS handshakes (counted in etcd's log), no
// retry storm. With auth on, each component runs with exactly its role and works,
// and a write outside that role is refused with etcd's permission error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/lease/etcd-client.ts';
import { encodeLeaseAttrs } from '../../src/lease/lease.ts';
import { type EtcdServer, startEtcd, uniquePrefix } from '../support/etcd.ts';
import { collectOutput, spawnTracked, stopChild } from '../support/process.ts';
import { type TestPki, makeTestPki } from '../support/tls.ts';
import { waitFor } from '../support/wait.ts';
import { type Lab, createLab } from '../lab/lab.ts';
import { type Relay, startRelay } from '../lab/relay.ts';
import { routeDomainSlug } from '../../src/lease/hybrid.ts';
import { agentAttrs, awsControllerArgs, awsEnv, awsLeaderKey, startAwsWorld } from '../e2e/controller-kit.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RELAY = fileURLToPath(new URL('../lab/relay.ts', import.meta.url));
const ROLES = fileURLToPath(new URL('../../deploy/etcd/roles.sh', import.meta.url));
const root = process.getuid?.() === 0;

interface Run { code: number | null; out: string; ms: number }

/** Runs a `tartan` command to its end (20 s at most). */
async function tartan(argv: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  const child = spawnTracked(process.execPath, [MAIN, ...argv], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', ...env } });
  const out = collectOutput(child);
  const timer = setTimeout(() => void stopChild(child, 'SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  return { code, out: out.text(), ms: Date.now() - started };
}

function etcdFlags(endpoint: string, o: { ca?: string; cert?: { cert: string; key: string }; user?: [string, string] }): string[] {
  return [
    '--etcd-endpoints', endpoint, ...(o.ca ? ['--etcd-cafile', o.ca] : []),
    ...(o.cert ? ['--etcd-certfile', o.cert.cert, '--etcd-keyfile', o.cert.key] : []),
    ...(o.user ? ['--etcd-username', o.user[0], '--etcd-password', o.user[1]] : []),
  ];
}

/** The three commands, each as far as its first etcd request. */
function commands(dir: string): Record<string, string[]> {
  return {
    agent: ['agent', '--subnet-file', join(dir, 'subnet.env'), '--iface', 'lo'],
    controller: ['controller', '--provider', 'aws', '--region', 'us-east-1'],
    audit: ['audit', '--provider', 'none'],
  };
}

const rejectedHandshakes = (etcd: EtcdServer): number => etcd.output().split('\n').filter((l) => /rejected connection/.test(l)).length;

describe('etcd mTLS: a trust problem is one clear error, exit 2, no retry storm', () => {
  let pki: TestPki;
  let etcd: EtcdServer;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-tls-'));
  before(async () => {
    pki = makeTestPki();
    const probe = pki.client('probe');
    etcd = await startEtcd({ tls: { ca: pki.ca, cert: pki.server.cert, key: pki.server.key, clientCertAuth: true }, probeCert: probe, logLevel: 'warn' });
  });
  after(async () => {
    await etcd?.destroy();
    pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = (): { description: string; flags: string[]; flag: string; cause: RegExp; maxHandshakes: number }[] => [
    { description: 'wrong CA', flags: etcdFlags(etcd.endpoint, { ca: pki.otherCa, cert: pki.client('tartan') }), flag: '--etcd-cafile', cause: /cannot trust etcd.*not signed by this CA/, maxHandshakes: 6 },
    { description: 'client certificate of another CA', flags: etcdFlags(etcd.endpoint, { ca: pki.ca, cert: pki.client('tartan', { signer: 'other' }) }), flag: '--etcd-certfile', cause: /etcd refused the client certificate: it is not signed by a CA etcd trusts/, maxHandshakes: 6 },
    { description: 'no client certificate', flags: etcdFlags(etcd.endpoint, { ca: pki.ca }), flag: '--etcd-certfile', cause: /no client certificate was given/, maxHandshakes: 6 },
    { description: 'expired client certificate (found before dialing)', flags: etcdFlags(etcd.endpoint, { ca: pki.ca, cert: pki.client('tartan', { expired: true }) }), flag: '--etcd-certfile', cause: /expired on 2001-01-02/, maxHandshakes: 0 },
  ];

  test('wrong CA, untrusted, missing or expired client certificate → agent, controller and audit exit 2 naming the flag', async (t) => {
    for (const c of cases()) {
      for (const [name, argv] of Object.entries(commands(dir))) {
        const before = rejectedHandshakes(etcd);
        const run = await tartan([...argv, ...c.flags], awsEnv('AKIDTLS'));
        await new Promise((r) => setTimeout(r, 300)); // etcd's log line may trail the exit
        const handshakes = rejectedHandshakes(etcd) - before;
        t.diagnostic(`${c.description} / ${name}: exit ${run.code} after ${run.ms} ms, ${handshakes} refused handshakes: ${run.out.split('\n').find((l) => l.includes(c.flag)) ?? run.out}`);
        assert.equal(run.code, 2, `${c.description} / ${name}: ${run.out}`);
        assert.equal(run.out.split('\n').filter((l) => l.includes(c.flag)).length, 1, `one line names ${c.flag}: ${run.out}`);
        assert.match(run.out, c.cause, `${c.description} / ${name}`);
        assert.ok(handshakes <= c.maxHandshakes, `${c.description} / ${name}: ${handshakes} refused handshakes`);
      }
    }
  });

  test('the right CA and certificate: the same commands get past etcd', async () => {
    const good = etcdFlags(etcd.endpoint, { ca: pki.ca, cert: pki.client('tartan') });
    const run = await tartan(['audit', '--provider', 'none', ...good]);
    // No config under the prefix yet: the audit read etcd and says so.
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, /network config not found/);
  });
});

describe('etcd auth with least-privilege roles (deploy/etcd/roles.sh)', { skip: root ? false : 'needs root: the agent runs in a network namespace' }, () => {
  let lab: Lab;
  let pki: TestPki;
  let etcd: EtcdServer;
  let rootCert: { cert: string; key: string };
  let relay: Relay | undefined;
  let inNs: ReturnType<typeof spawnTracked> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tartan-auth-'));
  const prefix = uniquePrefix('auth');
  const pw = { agent: 'agent-pw', controller: 'controller-pw', audit: 'audit-pw' };
  const clients: Etcd3[] = [];
  const as = (user: keyof typeof pw): Etcd3 => {
    const c = createEtcdClient({ endpoints: [etcd.endpoint], caFile: pki.ca, certFile: rootCert.cert, keyFile: rootCert.key, username: `tartan-${user}`, password: pw[user] });
    clients.push(c);
    return c;
  };

  before(async () => {
    lab = await createLab({ hosts: 1, podsPerHost: 0 });
    const h = lab.hosts[0]!;
    pki = makeTestPki({ serverIps: [h.ip] });
    rootCert = pki.client('root');
    etcd = await startEtcd({ tls: { ca: pki.ca, cert: pki.server.cert, key: pki.server.key, clientCertAuth: true }, probeCert: rootCert });
    const env = { ...process.env, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: etcd.endpoint, ETCDCTL_CACERT: pki.ca, ETCDCTL_CERT: rootCert.cert, ETCDCTL_KEY: rootCert.key };
    execFileSync('etcdctl', ['put', `${prefix}/config`, JSON.stringify({ Network: lab.network, Backend: { Type: 'vxlan' } })], { env });
    execFileSync('sh', [ROLES], {
      env: { ...env, PREFIX: prefix, AGENT_PASSWORD: pw.agent, CONTROLLER_PASSWORD: pw.controller, AUDIT_PASSWORD: pw.audit, ROOT_PASSWORD: 'root-pw', ENABLE_AUTH: '1' },
    });
    // etcd listens on 127.0.0.1 in the root namespace; the host namespace reaches it at <host ip>:2379 through two relays.
    const socket = join(dir, 'etcd.sock');
    relay = await startRelay({ listen: { path: socket }, connect: { host: '127.0.0.1', port: Number(new URL(etcd.endpoint).port) } });
    inNs = spawnTracked('ip', ['netns', 'exec', h.ns, process.execPath, RELAY, '--listen', `tcp:${h.ip}:2379`, '--connect', `unix:${socket}`]);
    const out = collectOutput(inNs);
    await waitFor('the relay in the host namespace', () => out.lines.some((l) => l.startsWith('{')), 15_000);
  });
  after(async () => {
    for (const c of clients) c.close();
    if (inNs) await stopChild(inNs);
    await relay?.close();
    await etcd?.destroy();
    await lab?.destroy();
    pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a wrong password, and a certificate whose CN is no etcd user: exit 2 naming the flag', async () => {
    const wrong = await tartan(['audit', '--provider', 'none', '--etcd-prefix', prefix, ...etcdFlags(etcd.endpoint, { ca: pki.ca, cert: rootCert, user: ['tartan-audit', 'nope'] })]);
    assert.equal(wrong.code, 2, wrong.out);
    assert.match(wrong.out, /--etcd-password: etcd refused user "tartan-audit": wrong user name or password/);
    assert.doesNotMatch(wrong.out, /nope/, 'the password is never printed');
    const nobody = await tartan(['controller', '--provider', 'aws', '--region', 'us-east-1', '--etcd-prefix', prefix, ...etcdFlags(etcd.endpoint, { ca: pki.ca, cert: pki.client('nobody') })]);
    assert.equal(nobody.code, 2, nobody.out);
    assert.match(nobody.out, /--etcd-certfile: etcd user \\?"nobody\\?" may not read .*\/config \(permission denied/);
  });

  test('agent, controller and audit each work with exactly their role; writes outside it are refused', async (t) => {
    const h = lab.hosts[0]!;
    const agent = spawnTracked('ip', ['netns', 'exec', h.ns, process.execPath, MAIN, 'agent', '--etcd-prefix', prefix, '--iface', 'eth0',
      '--subnet-file', join(dir, 'subnet.env'), ...etcdFlags(`https://${h.ip}:2379`, { ca: pki.ca, cert: rootCert, user: ['tartan-agent', pw.agent] })]);
    const agentOut = collectOutput(agent);
    t.after(() => stopChild(agent));
    const world = await startAwsWorld({ tables: 1, quota: 50, instances: 2 });
    t.after(() => world.close());
    const args = awsControllerArgs(world, { etcd: etcd.endpoint, prefix, quota: 50 });
    const controller = spawnTracked(process.execPath, [MAIN, 'controller', '--identity', 'ctl-roles', ...args,
      '--etcd-cafile', pki.ca, '--etcd-certfile', rootCert.cert, '--etcd-keyfile', rootCert.key, '--etcd-username', 'tartan-controller', '--etcd-password', pw.controller],
    { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', ...awsEnv('AKIDROLES') } });
    const controllerOut = collectOutput(controller);
    t.after(() => stopChild(controller));
    const rootClient = createEtcdClient({ endpoints: [etcd.endpoint], caFile: pki.ca, certFile: rootCert.cert, keyFile: rootCert.key, username: 'root', password: 'root-pw' });
    clients.push(rootClient);
    const details = () => `--- agent\n${agentOut.text()}\n--- controller\n${controllerOut.text()}`;
    await waitFor('the agent holds a lease', async () => (await rootClient.getAll().prefix(`${prefix}/subnets/`).keys()).length === 1, { timeoutMs: 30_000, details });
    const leaderKey = awsLeaderKey(world, prefix);
    await waitFor('the controller leads', async () => (await rootClient.get(leaderKey).string()) === 'ctl-roles', { timeoutMs: 30_000, details });
    // A lease of a host in the emulated VPC (written as root): the controller routes it and publishes its status (read-write routes/, its domain's).
    await rootClient.put(`${prefix}/subnets/10.42.200.0-24`).value(encodeLeaseAttrs(agentAttrs(world.hosts(0, 1)[0]!))).exec();
    const domainRoutes = `${prefix}/routes/${routeDomainSlug(world.domain)}/`;
    await waitFor('the controller published route status', async () => (await rootClient.getAll().prefix(domainRoutes).keys()).length > 0, { timeoutMs: 30_000, details });
    const audit = await tartan(['audit', '--provider', 'none', '--etcd-prefix', prefix, ...etcdFlags(etcd.endpoint, { ca: pki.ca, cert: rootCert, user: ['tartan-audit', pw.audit] })]);
    assert.ok(audit.code === 0 || audit.code === 1, `the audit could audit: exit ${audit.code}\n${audit.out}`);
    assert.doesNotMatch(`${agentOut.text()}${controllerOut.text()}`, /permission denied/);

    const refused: [keyof typeof pw, string][] = [
      // Today's keys, and the unscoped ones (an unscoped leader key would hold back every scoped controller).
      ['agent', `${domainRoutes}10.42.1.0-24`], ['agent', `${prefix}/routes/10.42.1.0-24`], ['agent', `${prefix}/config`], ['agent', leaderKey], ['agent', `${prefix}/controller/leader`],
      ['audit', `${prefix}/config`], ['audit', `${prefix}/subnets/10.42.9.0-24`], ['audit', `${domainRoutes}10.42.1.0-24`], ['audit', `${prefix}/routes/10.42.1.0-24`],
      ['audit', leaderKey], ['audit', `${prefix}/controller/leader`],
      ['controller', `${prefix}/subnets/10.42.9.0-24`], ['controller', `${prefix}/config`],
    ];
    for (const [user, key] of refused) {
      await assert.rejects(as(user).put(key).value('x').exec(), (err: Error) => err.constructor.name === 'EtcdPermissionDeniedError' && /permission denied/.test(err.message), `tartan-${user} writing ${key}`);
    }
    await assert.rejects(as('audit').delete().prefix(`${prefix}/`).exec(), /permission denied/);
    assert.equal(agent.exitCode, null, details());
    assert.equal(controller.exitCode, null, details());
  });
});
