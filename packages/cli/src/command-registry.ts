/**
 * The command nouns of `zgrid` and where each lives: one file per noun under `commands/`, loaded
 * only when that noun is used. `zgrid --help` lists the nouns from this table without loading any
 * of them (module loading is most of a command's start-up cost: issue 14).
 *
 * A noun file registers its commands with `register(program, ctx)`; one file may register several
 * top-level commands (`up`, `down`, `status`, `debian`). `command-registry.test.ts` loads every file
 * and checks that this table lists exactly what they register, with the same help text.
 *
 * @example
 * ```ts
 * const noun = nounOf(["node", "zgrid", "--json", "vm", "ls"]);     // "vm"
 * for (const m of modulesFor(noun)) (await m.load())(program, ctx);
 * ```
 */
import type { Command } from "commander";
import type { Ctx } from "./context.ts";

export type RegisterFn = (program: Command, ctx: Ctx) => void;

/** One top-level command as `zgrid --help` lists it. */
export interface NounHelp {
  /** The usage term in the help's command list (`up [options]`, `flist [args...]`). */
  term: string;
  description: string;
}

export interface NounModule {
  /** The top-level commands the file registers, by name. */
  nouns: Record<string, NounHelp>;
  load(): Promise<RegisterFn>;
}

/** Global options that take a value (the noun is the first argument that is neither an option nor such a value). */
const VALUE_OPTIONS = new Set(["--data-dir", "--grid"]);

export const NOUN_MODULES: NounModule[] = [
  {
    nouns: {
      up: { term: "up [options]", description: "start the local grid: dev chain, flist hub, N node daemons, a funded twin, a busybox flist" },
      down: { term: "down", description: "stop the local grid: cancel contracts, remove VMs, stop every process (state kept for the next up)" },
      debian: { term: "debian [options]", description: "local grid: build (once, with debootstrap) and publish a Debian 12 flist with sshd as flist 'debian'" },
      status: { term: "status", description: "what the local grid runs and where" },
    },
    load: async () => (await import("./commands/grid-commands.ts")).registerGridCommands,
  },
  { nouns: { vm: { term: "vm", description: "virtual machines" } }, load: async () => (await import("./commands/vm-commands.ts")).registerVmCommands },
  { nouns: { network: { term: "network", description: "private networks" } }, load: async () => (await import("./commands/network-commands.ts")).registerNetworkCommands },
  { nouns: { contracts: { term: "contracts", description: "your IT contracts" } }, load: async () => (await import("./commands/contract-commands.ts")).registerContractCommands },
  {
    nouns: { nodes: { term: "nodes", description: "nodes" }, node: { term: "node", description: "node registration (farmers)" } },
    load: async () => (await import("./commands/node-commands.ts")).registerNodeCommands,
  },
  { nouns: { twin: { term: "twin", description: "your twin" } }, load: async () => (await import("./commands/twin-commands.ts")).registerTwinCommands },
  { nouns: { farm: { term: "farm", description: "farms (farmers)" } }, load: async () => (await import("./commands/farm-commands.ts")).registerFarmCommands },
  { nouns: { boot: { term: "boot", description: "boot server and boot media for stateless Zero-OS nodes" } }, load: async () => (await import("./commands/boot-commands.ts")).registerBootCommands },
  {
    nouns: { gw: { term: "gw", description: "gateways: publish a VM's port or public backends as <name>.<gateway node domain> or your own domain" } },
    load: async () => (await import("./commands/gateway-commands.ts")).registerGatewayCommands,
  },
  {
    nouns: {
      apply: { term: "apply [options]", description: "converge the grid to a spec or docker-compose file (networks, VMs, gateways): shows the plan, then creates, updates in place, replaces, deletes" },
      delete: { term: "delete [options]", description: "remove everything a spec or compose file made (its project)" },
    },
    load: async () => (await import("./commands/apply-commands.ts")).registerApplyCommands,
  },
  {
    nouns: { image: { term: "image", description: "container images: convert, sign and push to the hub (then usable by name)" } },
    load: async () => (await import("./commands/image-commands.ts")).registerImageCommands,
  },
  {
    nouns: { flist: { term: "flist [args...]", description: "flists: pack, convert, push, inspect, verify, sign, ls, … (`zgrid flist --help`)" } },
    load: async () => (await import("./commands/flist-commands.ts")).registerFlistCommands,
  },
  {
    nouns: { zdb: { term: "zdb", description: "zdb namespaces: 0-db key-value stores on a node's disk (RESP: any Redis client)" } },
    load: async () => (await import("./commands/zdb-commands.ts")).registerZdbCommands,
  },
  {
    nouns: { bot: { term: "bot", description: "your 3bot: keeps services alive (self-healing across nodes, rolling updates, orphan contracts cancelled)" } },
    load: async () => (await import("./commands/bot-commands.ts")).registerBotCommands,
  },
  {
    nouns: { k8s: { term: "k8s", description: "Kubernetes clusters on zmachines (a master and workers on one private network)" } },
    load: async () => (await import("./commands/k8s-commands.ts")).registerK8sCommands,
  },
  {
    nouns: { dns: { term: "dns", description: "local grid: the DNS records its DNS server answers (FQDN gateways' ownership proofs)" } },
    load: async () => (await import("./commands/dns-commands.ts")).registerDnsCommands,
  },
  {
    nouns: { metrics: { term: "metrics [options]", description: "local grid: its Prometheus endpoints; --prometheus DIR writes a Prometheus config scraping them" } },
    load: async () => (await import("./commands/metrics-commands.ts")).registerMetricsCommands,
  },
  {
    nouns: { release: { term: "release", description: "node software releases: build (signed flist + manifest), propose to governance" } },
    load: async () => (await import("./commands/release-commands.ts")).registerReleaseCommands,
  },
];

/**
 * The noun of a command line (`process.argv`): the first argument that is not an option or a global
 * option's value; for `zgrid help <noun>`, that noun. Undefined when there is none.
 */
export function nounOf(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  let helpFor = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return args[i + 1];
    if (a.startsWith("-")) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    if (a === "help" && !helpFor) {
      helpFor = true;
      continue;
    }
    return a;
  }
  return undefined;
}

/** The file that registers `noun`, or undefined for an unknown (or no) noun. */
export function moduleFor(noun: string | undefined): NounModule | undefined {
  return noun === undefined ? undefined : NOUN_MODULES.find((m) => Object.hasOwn(m.nouns, noun));
}
