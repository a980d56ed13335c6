// The networks the external interface is directly connected to: where a peer can
// be reached without a router (host-gw, vxlan DirectRouting). Read at activate and
// again on every resync, since addresses can change under a running agent.
import type { Cidr } from '../../net/cidr.ts';
import { connectedNetworks, prefixText } from '../../kernel/index.ts';
import type { HostView } from './peer-objects.ts';

export class ConnectedNetworks {
  readonly #dev: string;
  readonly #netns: string | undefined;
  #networks: readonly Cidr[] = [];

  constructor(dev: string, netns: string | undefined) {
    this.#dev = dev;
    this.#netns = netns;
  }

  get dev(): string {
    return this.#dev;
  }

  get networks(): readonly Cidr[] {
    return this.#networks;
  }

  /** Re-reads the interface; true when the set of networks changed. */
  async refresh(): Promise<boolean> {
    const next = await connectedNetworks(this.#dev, { netns: this.#netns });
    const text = (list: readonly Cidr[]): string => list.map(prefixText).sort().join(' ');
    const changed = text(next) !== text(this.#networks);
    this.#networks = next;
    return changed;
  }

  /** The interface and its networks as they were at the last refresh. */
  view(): HostView {
    return { dev: this.#dev, networks: this.#networks };
  }
}
