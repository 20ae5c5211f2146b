/**
 * What a network-booted node runs (issue 19): the release's entry (image/node-entry.sh) hands the
 * boot parameters (as `ZGRID_*` env, see boot/first-process.ts) to this module, which turns them
 * into zosd's config and the upgrader's config. Paths are the ones inside the node's system root
 * (the release's `system/` tree, chrooted in an overlay on tmpfs):
 * - `/opt/zgrid`: the release itself (read-only, verified FUSE mount); the upgrader's `initial`;
 * - `/var/lib/zgrid`: the node's cache disk. zosd's data dir is its `zos/` (the identity seed the
 *   boot image made lives there, so the node key is the boot identity); workload data only;
 * - `/run`: RAM. The upgrader's state and any release it installs live there, so nothing of the
 *   OS is ever written to the disk; after a reboot the kernel line's release runs and the upgrader
 *   follows the chain's approved release again.
 *
 * @example
 * ```ts
 * const { zos, upgrader } = nodeConfigFromEnv(process.env, "1.0.0");
 * zos.farmId; // from ZGRID_FARM
 * ```
 */
import { BaseError } from "@zgrid/types";

export class NodeSetupError extends BaseError {
  override readonly code: string = "NODE_SETUP";
}

export const NODE_PATHS = {
  release: "/opt/zgrid",
  data: "/var/lib/zgrid",
  zosConfig: "/etc/zgrid/zos.json",
  upgraderConfig: "/etc/zgrid/upgrader.json",
  upgraderState: "/run/zgrid-upgrader",
  vmState: "/run/zgrid-vms",
} as const;

type Address = `0x${string}`;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export interface NodeConfigs {
  account: Address;
  rpcUrl: string;
  zos: {
    dataDir: string; vmStateDir: string; farmId: number;
    chain: { rpcUrl: string; addresses: { token: Address; registry: Address; contracts: Address; governance: Address } };
    bus: { listen: string[] }; flist: { stores: string[] };
  };
  upgrader: {
    stateDir: string; zosConfig: string; releaseKeys: string[]; initial: { version: string; dir: string }; stores: string[];
    health: { windowMs: number; settleMs: number };
  };
}

function need(env: Record<string, string | undefined>, name: string, hint: string): string {
  const v = env[name];
  if (!v) throw new NodeSetupError(`${name} is not set`, { hint });
  if (v.length > 4096) throw new NodeSetupError(`${name} is longer than 4096 bytes`);
  return v;
}

/** Builds zosd's and the upgrader's configs from the boot's `ZGRID_*` env. Throws NodeSetupError naming the variable. */
export function nodeConfigFromEnv(env: Record<string, string | undefined>, releaseVersion: string): NodeConfigs {
  const boot = "the boot image's first process sets it from the kernel line (zgrid boot line)";
  const farmId = Number(need(env, "ZGRID_FARM", boot));
  if (!Number.isInteger(farmId) || farmId < 1) throw new NodeSetupError(`ZGRID_FARM '${env.ZGRID_FARM}' is not a farm id`);
  const rpcUrl = need(env, "ZGRID_RPC", boot);
  const hub = need(env, "ZGRID_HUB", boot).replace(/\/+$/, "");
  const account = need(env, "ZGRID_NODE_ACCOUNT", boot);
  if (!ADDRESS.test(account)) throw new NodeSetupError(`ZGRID_NODE_ACCOUNT '${account.slice(0, 64)}' is not an address`);
  const keys = need(env, "ZGRID_RELEASE_KEYS", boot).split(",").filter(Boolean);
  if (keys.length === 0 || keys.some((k) => !ADDRESS.test(k))) throw new NodeSetupError("ZGRID_RELEASE_KEYS must be addresses separated by commas");
  let addresses: NodeConfigs["zos"]["chain"]["addresses"];
  try {
    const c = JSON.parse(need(env, "ZGRID_CONTRACTS", "add zgrid.contracts=token,registry,contracts,governance to the kernel line (zgrid boot serve fills it from the grid)")) as Record<string, unknown>;
    const pick = (k: string): Address => {
      const a = c[k];
      if (typeof a !== "string" || !ADDRESS.test(a)) throw new NodeSetupError(`ZGRID_CONTRACTS.${k} is not an address`);
      return a as Address;
    };
    addresses = { token: pick("token"), registry: pick("registry"), contracts: pick("contracts"), governance: pick("governance") };
  } catch (e) {
    if (e instanceof NodeSetupError) throw e;
    throw new NodeSetupError("ZGRID_CONTRACTS is not JSON", { hint: "the first process writes it from zgrid.contracts" });
  }
  if (!/^v?[0-9A-Za-z.+-]{1,63}$/.test(releaseVersion)) throw new NodeSetupError(`the release's RELEASE file names no valid version ('${releaseVersion.slice(0, 64)}')`);
  const stores = [`${hub}/blocks`];
  return {
    account: account as Address, rpcUrl,
    zos: {
      dataDir: `${NODE_PATHS.data}/zos`, vmStateDir: NODE_PATHS.vmState, farmId,
      chain: { rpcUrl, addresses }, bus: { listen: ["/ip4/0.0.0.0/tcp/4100"] }, flist: { stores },
    },
    upgrader: {
      stateDir: NODE_PATHS.upgraderState, zosConfig: NODE_PATHS.zosConfig, releaseKeys: keys,
      initial: { version: releaseVersion, dir: NODE_PATHS.release }, stores,
      // zosd's first start reads its code through the lazily fetched release: minutes on a slow
      // link or under emulation, so the ready window is wide (an upgrade's own gate uses it too)
      health: { windowMs: 900_000, settleMs: 3_000 },
    },
  };
}
