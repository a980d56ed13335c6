import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attributeFailures, groupByTool, renderChange } from './batch.ts';
import type { Change, ChangeAction } from './plan.ts';
import { type KernelObject, objectKey } from './objects.ts';

const change = (action: ChangeAction, object: KernelObject): Change => ({ action, object, key: objectKey(object) });

const addRoute = change('add', { kind: 'route', dst: '10.5.2.0/24', via: '10.5.2.0', dev: 'flannel.1', onlink: true });
const addDirect = change('replace', { kind: 'route', dst: '10.5.3.0/24', via: '192.168.1.3', dev: 'eth0', onlink: false });
const delRoute = change('delete', { kind: 'route', dst: '10.5.9.0/24', via: '10.5.9.0', dev: 'flannel.1', onlink: true, metric: 5 });
const addNeigh = change('add', { kind: 'neigh', dev: 'flannel.1', ip: '10.5.2.0', mac: '0e:00:00:00:00:02' });
const delNeigh = change('delete', { kind: 'neigh', dev: 'flannel.1', ip: '10.5.9.0', mac: '0e:00:00:00:00:09' });
const addFdb = change('add', { kind: 'fdb', dev: 'flannel.1', mac: '0e:00:00:00:00:02', dst: '192.168.1.2' });
const delFdb = change('delete', { kind: 'fdb', dev: 'flannel.1', mac: '0e:00:00:00:00:09', dst: '192.168.1.9' });

describe('renderChange', () => {
  const cases: Array<{ description: string; change: Change; line: string }> = [
    { description: 'vxlan route: onlink via the subnet address, tartan proto; an add never replaces a route tartan did not make', change: addRoute,
      line: 'route add 10.5.2.0/24 via 10.5.2.0 dev flannel.1 onlink proto 116' },
    { description: 'a replace (tartan\'s own route to that destination): plain via PublicIP, atomic', change: addDirect, line: 'route replace 10.5.3.0/24 via 192.168.1.3 dev eth0 proto 116' },
    { description: 'route delete matches tartan proto only (never someone else\'s route)', change: delRoute,
      line: 'route del 10.5.9.0/24 proto 116 metric 5 table main' },
    { description: 'neigh: permanent', change: addNeigh, line: 'neigh replace 10.5.2.0 lladdr 0e:00:00:00:00:02 dev flannel.1 nud permanent' },
    { description: 'neigh delete', change: delNeigh, line: 'neigh del 10.5.9.0 dev flannel.1' },
    { description: 'fdb: permanent self entry', change: addFdb, line: 'fdb replace 0e:00:00:00:00:02 dev flannel.1 dst 192.168.1.2 self permanent' },
    { description: 'fdb delete names the dst', change: delFdb, line: 'fdb del 0e:00:00:00:00:09 dev flannel.1 dst 192.168.1.9 self' },
  ];
  for (const c of cases) it(c.description, () => assert.equal(renderChange(c.change), c.line));
});

describe('groupByTool', () => {
  it('one process per consecutive run of the same tool, order kept', () => {
    const runs = groupByTool([addFdb, addNeigh, addRoute, delRoute, delNeigh, delFdb]);
    assert.deepEqual(runs.map((r) => [r.tool, r.changes.length]), [['bridge', 1], ['ip', 4], ['bridge', 1]]);
    assert.deepEqual(runs[1]!.changes, [addNeigh, addRoute, delRoute, delNeigh]);
  });
});

describe('attributeFailures', () => {
  const changes = [addNeigh, addRoute, delRoute, addDirect];
  const cases: Array<{ description: string; stderr: string; want: Array<[Change, string]> }> = [
    {
      description: 'a failed run with no output at all fails every line',
      stderr: '',
      want: changes.map((c) => [c, 'the batch process failed'] as [Change, string]),
    },
    {
      description: 'each marker names its line, with the error printed before it',
      stderr: 'Cannot find device "nosuch"\nCommand failed -:2\nError: Nexthop has invalid gateway.\nCommand failed -:4\n',
      want: [[addRoute, 'Cannot find device "nosuch"'], [addDirect, 'Error: Nexthop has invalid gateway.']],
    },
    {
      description: 'deleting something already gone is not a failure',
      stderr: 'RTNETLINK answers: No such process\nCommand failed -:3\n',
      want: [],
    },
    {
      description: 'a put that the kernel refuses with "No such process" still fails',
      stderr: 'RTNETLINK answers: No such process\nCommand failed -:2\n',
      want: [[addRoute, 'RTNETLINK answers: No such process']],
    },
    {
      description: 'a batch that died without markers fails every line',
      stderr: 'Killed\n',
      want: changes.map((c) => [c, 'Killed'] as [Change, string]),
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      assert.deepEqual(attributeFailures(changes, c.stderr).map((f) => [f.change, f.error]), c.want);
    });
  }
});
