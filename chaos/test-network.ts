/**
 * Real hosts for the chaos suite: one Linux network namespace per node, each with a veth pair
 * into one bridge in the caller's namespace (which keeps PostgreSQL, RabbitMQ, the gateway and
 * the test itself). Faults are nftables rules inside a node's namespace, so a partition or a
 * lossy link is the kernel dropping packets, not a simulation. Needs root, iproute2 and nftables.
 *
 *   bridge  <prefix>br  10.<net>.0.1/24      (the "host": database, broker, gateway)
 *   node i  netns <prefix><i>, eth0 10.<net>.0.<10+i>/24, named <id>.ensemble.test
 *
 * Every node's name is in every namespace's /etc/netns/<ns>/hosts, which `ip netns exec` mounts
 * over /etc/hosts for the process it starts: inside, the names resolve as a cluster DNS would
 * resolve them. A node moved to a new address (`readdress`) is renamed in every one of them.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Run a command, failing with its stderr (not just an exit code). */
async function sh(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args);
    return stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`${command} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** Why this machine cannot make test hosts, or null when it can. */
export async function testNetworkUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, version, debian] of [
    ['ip', '-V', 'iproute2'],
    ['nft', '--version', 'nftables'],
  ] as const) {
    try {
      await run(tool, [version]);
    } catch {
      return `${tool} is not installed (Debian: ${debian})`;
    }
  }
  return null;
}

/** Where `ip netns exec` finds a namespace's own /etc files. */
const NETNS_ETC = '/etc/netns';

/** The first host number a node moved to a new address gets (10.<net>.0.<n>), counting up. */
const FIRST_NEW_HOST = 100;

export class TestNetwork {
  private readonly members: string[];
  /** Nodes moved by `readdress`, to their current address. */
  private readonly moved = new Map<string, string>();
  private readdressed = 0;

  /**
   * @param prefix at most 6 characters: interface names are limited to 15.
   * @param net the second octet of the 10.x.0.0/24 network.
   */
  constructor(
    private readonly prefix: string,
    readonly nodeIds: readonly string[],
    private readonly net = 231,
  ) {
    if (prefix.length > 6 || !/^[a-z][a-z0-9]*$/.test(prefix)) throw new Error(`bad prefix ${prefix}`);
    this.members = [...nodeIds];
  }

  /** The address of the host side (the bridge): what nodes reach the database and gateway on. */
  get hostAddress(): string {
    return `10.${this.net}.0.1`;
  }

  /** The node's current address (a new one after `readdress`). */
  address(id: string): string {
    return this.moved.get(id) ?? `10.${this.net}.0.${10 + this.index(id)}`;
  }

  /** The name every node's host resolves this node by (its namespace's hosts file). */
  hostName(id: string): string {
    this.index(id); // an unknown node is an error, not a name
    return `${id}.ensemble.test`;
  }

  namespace(id: string): string {
    return `${this.prefix}${this.index(id) + 1}`;
  }

  /** The command prefix that runs a program on a node's host. */
  launcher(id: string): readonly string[] {
    return ['ip', 'netns', 'exec', this.namespace(id)];
  }

  async create(): Promise<void> {
    await this.destroy(); // leftovers of a run that was killed
    const bridge = `${this.prefix}br`;
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${this.hostAddress}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
    for (const id of this.members) {
      const ns = this.namespace(id);
      const veth = `${this.prefix}v${this.index(id) + 1}`;
      await sh('ip', ['netns', 'add', ns]);
      await sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await sh('ip', ['link', 'set', veth, 'master', bridge, 'up']);
      await this.inside(id, 'ip', ['addr', 'add', `${this.address(id)}/24`, 'dev', 'eth0']);
      await this.inside(id, 'ip', ['link', 'set', 'eth0', 'up']);
      await this.inside(id, 'ip', ['link', 'set', 'lo', 'up']);
      // One table per host for every fault: healing is flushing its chains.
      await this.nft(id, ['add', 'table', 'inet', 'chaos']);
      for (const hook of ['input', 'output'])
        await this.nft(id, [
          'add',
          'chain',
          'inet',
          'chaos',
          hook,
          `{ type filter hook ${hook} priority 0; policy accept; }`,
        ]);
    }
    await this.writeHostsFiles();
  }

  /**
   * Give a node's host a new address (the old one is gone: packets to it reach no one), as a
   * Kubernetes pod that comes back gets one, and point its name at it in every host's hosts
   * file. A process running on the node keeps its sockets; one bound to the old address should
   * be restarted. Resolves with the new address.
   */
  async readdress(id: string): Promise<string> {
    const address = `10.${this.net}.0.${FIRST_NEW_HOST + this.readdressed++}`;
    await this.inside(id, 'ip', ['addr', 'flush', 'dev', 'eth0']);
    await this.inside(id, 'ip', ['addr', 'add', `${address}/24`, 'dev', 'eth0']);
    this.moved.set(id, address);
    await this.writeHostsFiles();
    return address;
  }

  /** Cut every packet between the two sides (both directions); the host stays reachable. */
  async partition(side: readonly string[], other: readonly string[]): Promise<void> {
    for (const [a, b] of [
      [side, other],
      [other, side],
    ] as const) {
      if (b.length === 0) continue;
      const set = `{ ${b.map((id) => this.address(id)).join(', ')} }`;
      for (const id of a) {
        await this.nft(id, ['add', 'rule', 'inet', 'chaos', 'input', 'ip', 'saddr', set, 'drop']);
        await this.nft(id, ['add', 'rule', 'inet', 'chaos', 'output', 'ip', 'daddr', set, 'drop']);
      }
    }
  }

  /** Drop `percent` % of the packets each node receives, on every link (the host's included). */
  async loss(percent: number): Promise<void> {
    for (const id of this.members)
      await this.nft(id, [
        'add',
        'rule',
        'inet',
        'chaos',
        'input',
        'numgen',
        'random',
        'mod',
        '100',
        '<',
        String(percent),
        'drop',
      ]);
  }

  /** Remove every fault. */
  async heal(): Promise<void> {
    for (const id of this.members) await this.nft(id, ['flush', 'table', 'inet', 'chaos']);
  }

  /** The rules in force on a node (for the record of a run). */
  async rules(id: string): Promise<string> {
    return this.nft(id, ['list', 'table', 'inet', 'chaos']);
  }

  async destroy(): Promise<void> {
    for (const id of this.members) {
      await run('ip', ['netns', 'del', this.namespace(id)]).catch(() => {});
      await rm(join(NETNS_ETC, this.namespace(id)), { recursive: true, force: true });
    }
    await run('ip', ['link', 'del', `${this.prefix}br`]).catch(() => {});
    this.moved.clear();
    this.readdressed = 0;
  }

  /**
   * Every node's name at its current address, in every namespace's hosts file. Written in place
   * (not replaced by a rename): a running process sees the file `ip netns exec` mounted when it
   * started, so the same file must change under it.
   */
  private async writeHostsFiles(): Promise<void> {
    const lines = [
      '127.0.0.1 localhost',
      '::1 localhost',
      ...this.members.map((id) => `${this.address(id)} ${this.hostName(id)}`),
    ];
    for (const id of this.members) {
      const dir = join(NETNS_ETC, this.namespace(id));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'hosts'), `${lines.join('\n')}\n`);
    }
  }

  private index(id: string): number {
    const i = this.members.indexOf(id);
    if (i < 0) throw new Error(`unknown node ${id}`);
    return i;
  }

  private inside(id: string, command: string, args: readonly string[]): Promise<string> {
    return sh('ip', ['netns', 'exec', this.namespace(id), command, ...args]);
  }

  private nft(id: string, args: readonly string[]): Promise<string> {
    return this.inside(id, 'nft', args);
  }
}
