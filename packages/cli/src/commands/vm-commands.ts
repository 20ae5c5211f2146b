/**
 * `zgrid vm deploy|ls|get|rm|console`.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { InputError, NotFoundError, parseSize, type VmInfo, type VmModelInput } from "@zgrid/client";
import { knownFlists, openGrid, type GlobalOptions } from "../context.ts";
import { table, type Output } from "../output.ts";
import { withInterrupt } from "../interrupt.ts";

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerVmCommands(program: Command, ctx: () => { opts: GlobalOptions; io: Output }): void {
  const vm = program.command("vm").description("virtual machines");

  vm.command("deploy <name>").description("deploy a VM (picks a node unless --node; rolls back every contract on failure or Ctrl-C)")
    .option("--flist <url|name>", "image: a hub URL or a local grid flist name", "busybox")
    .option("--node <id>", "node id (default: the node finder picks)")
    .option("--farm <id>", "only nodes of this farm")
    .option("--country <code>", "only nodes in this country")
    .option("--cpu <n>", "vCPUs", "1")
    .option("--memory <size>", "memory (MiB, or 1G)", "256")
    .option("--rootfs <size>", "root disk (MiB, or 2G); 0 = in memory", "0")
    .option("--disk <name:size:/mountpoint>", "extra disk (repeatable)", collect, [])
    .option("--env <KEY=VALUE>", "environment variable (repeatable)", collect, [])
    .option("--ssh-key <key|file>", "SSH public key, or a file holding it")
    .option("--network <name>", "private network (made on the node when missing)", "default")
    .option("--entrypoint <cmd>", "command to run (default: the image's)")
    .option("--public-ip", "reserve a public IPv4")
    .action(async (name: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const { opts, io } = ctx();
      const grid = await openGrid(opts);
      try {
        const flist = String(o.flist);
        const flists = knownFlists(opts);
        const url = /^https?:\/\//.test(flist) ? flist : flists[flist];
        if (!url) throw new InputError(`unknown flist '${flist}'`, { hint: `give a hub URL, or one of: ${Object.keys(flists).join(", ") || "(no local grid flists)"}` });
        const model: VmModelInput = {
          name, flist: url, cpu: Number(o.cpu), memory: mib(String(o.memory), "--memory"), rootfs: mib(String(o.rootfs), "--rootfs"),
          disks: (o.disk as string[]).map(parseDisk), env: Object.fromEntries((o.env as string[]).map(parseEnv)), network: String(o.network),
          ...(o.node ? { node: Number(o.node) } : {}), ...(o.farm ? { farm: Number(o.farm) } : {}), ...(o.country ? { country: String(o.country) } : {}),
          ...(o.sshKey ? { ssh_key: readKey(String(o.sshKey)) } : {}), ...(o.entrypoint ? { entrypoint: String(o.entrypoint) } : {}), ...(o.publicIp ? { public_ip: true } : {}),
        };
        const info = await withInterrupt(io, (signal) => grid.vms.deploy(model, { signal, onProgress: io.progress }));
        io.result(info, () => describeVm(info));
      } finally {
        await grid.close();
      }
    });

  vm.command("ls").description("list your VMs with their state and IP").action(async () => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const vms = await grid.vms.list();
      io.result(vms, () => table(vms.map((v) => ({ ...v, memory: `${v.memoryMiB} MiB` })), ["name", "state", "node", "ip", "publicIp", "network", "contractId", "cpu", "memory", "project"].map((c) => (c === "node" ? "nodeId" : c))));
    } finally {
      await grid.close();
    }
  });

  vm.command("get <name>").description("one VM in detail").action(async (name: string) => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      const info = await grid.vms.get(name);
      io.result(info, () => describeVm(info));
    } finally {
      await grid.close();
    }
  });

  vm.command("rm <name>").alias("delete").description("remove a VM (cancels its contract)").action(async (name: string) => {
    const { opts, io } = ctx();
    const grid = await openGrid(opts);
    try {
      io.progress(`removing '${name}'`);
      const info = await grid.vms.delete(name);
      io.result(info, () => `removed VM '${name}' (contract ${info.contractId} cancelled)`);
    } finally {
      await grid.close();
    }
  });

  vm.command("console <name>").description("the VM's console output (local grid: read on this host)")
    .option("--lines <n>", "last lines", "50")
    .action(async (name: string, o: { lines: string }) => {
      const { opts, io } = ctx();
      const grid = await openGrid(opts);
      try {
        const info = await grid.vms.get(name);
        if (!info.consoleLog || !existsSync(info.consoleLog)) throw new NotFoundError(`the console of '${name}' is not on this host`, { hint: "consoles are readable on the node's host (the local grid)" });
        const lines = readFileSync(info.consoleLog, "utf8").split("\n").slice(-Number(o.lines) - 1);
        io.result({ name, console: lines.join("\n") }, () => lines.join("\n"));
      } finally {
        await grid.close();
      }
    });
}

/**
 * How to get into the VM's private network from this host. Node daemons (also those in the local
 * grid's node hosts) create their network namespaces in the host's mount namespace, so
 * `ip netns exec` reaches them from any shell, whichever daemon process made them.
 */
export function reachPrefix(v: VmInfo): string {
  return `ip netns exec ${v.namespace}`;
}

export function describeVm(v: VmInfo): string {
  const via = reachPrefix(v);
  return [
    `vm ${v.name}: ${v.state}${v.message ? ` (${v.message})` : ""}`,
    `  node ${v.nodeId}, contract ${v.contractId}, network ${v.network}, ip ${v.ip || "-"}${v.publicIp ? `, public ip ${v.publicIp}` : ""}`,
    `  ${v.cpu} vCPU, ${v.memoryMiB} MiB, flist ${v.flist}`,
    ...(v.consoleLog ? [`  console: zgrid vm console ${v.name}   (${v.consoleLog})`] : []),
    ...(v.publicIp ? [`  reach it: ssh root@${v.publicIp.split("/")[0]}   or   curl http://${v.publicIp.split("/")[0]}/`] : []),
    ...(v.ip ? [`  private:  ${via} ssh root@${v.ip}   (or curl http://${v.ip}/)`] : []),
  ].join("\n");
}

function mib(text: string, flag: string): number {
  const bytes = parseSize(text, "M");
  if (!Number.isFinite(bytes)) throw new InputError(`${flag} ${text}: not a size`, { hint: "give MiB (512) or a unit (2G)" });
  return Math.round(bytes / 1024 ** 2);
}

function parseDisk(text: string): { name: string; size: number; mountpoint: string } {
  const [name, size, mountpoint] = text.split(":");
  if (!name || !size || !mountpoint) throw new InputError(`--disk ${text}: expected name:size:/mountpoint`, { hint: "e.g. --disk data:1G:/data" });
  return { name, size: mib(size, "--disk"), mountpoint };
}

function parseEnv(text: string): [string, string] {
  const i = text.indexOf("=");
  if (i < 1) throw new InputError(`--env ${text}: expected KEY=VALUE`);
  return [text.slice(0, i), text.slice(i + 1)];
}

function readKey(v: string): string {
  if (/^(ssh-|ecdsa-)/.test(v)) return v.trim();
  if (!existsSync(v)) throw new InputError(`--ssh-key ${v}: neither a key nor a file`, { hint: "pass the public key text or a path like ~/.ssh/id_ed25519.pub" });
  return readFileSync(v, "utf8").trim();
}
