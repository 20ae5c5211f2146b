/**
 * `zgrid vm deploy|ls|get|rm|logs|console|stop|start|restart|exec`.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import type { VmInfo, VmModelInput } from "@zgrid/client";
import { knownFlists, sdk, withGrid, withGridReader, type Ctx } from "../context.ts";
import { table } from "../output.ts";
import { withInterrupt } from "../interrupt.ts";
import { imageHints, type ImageHints } from "../image-hints.ts";

type Sdk = Awaited<ReturnType<typeof sdk>>;

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerVmCommands(program: Command, ctx: Ctx): void {
  const vm = program.command("vm").description("virtual machines");

  vm.command("deploy <name>").description("deploy a VM (picks a node unless --node; rolls back every contract on failure or Ctrl-C)")
    .option("--flist <url|name>", "image: a hub URL or a local grid flist name", "busybox")
    .option("--node <id>", "node id (default: the node finder picks)")
    .option("--farm <id>", "only nodes of this farm")
    .option("--country <code>", "only nodes in this country")
    .option("--spread", "without --node: the emptiest node that fits (default: the fullest, so a farm can power idle nodes off)")
    .option("--cpu <n>", "vCPUs", "1")
    .option("--memory <size>", "memory (MiB, or 1G)", "256")
    .option("--rootfs <size>", "root disk (MiB, or 2G); 0 = in memory", "0")
    .option("--disk <name:size:/mountpoint>", "extra disk (repeatable)", collect, [])
    .option("--env <KEY=VALUE>", "environment variable (repeatable)", collect, [])
    .option("--ssh-key <key|file>", "SSH public key, or a file holding it")
    .option("--network <name>", "private network (made on the node when missing)", "default")
    .option("--entrypoint <cmd>", `replaces the image's Entrypoint: a JSON array or shell words with quoting, e.g. 'sh -c "cd /app && exec ./run"'`)
    .option("--cmd <args>", "replaces the image's Cmd (the arguments after the entrypoint), same forms")
    .option("--public-ip", "reserve a public IPv4 (from the farm's IPs)")
    .option("--public-ip6", "a public IPv6 (from the node's v6 range; with --public-ip: both)")
    .option("--no-wait", "return once the node booted the VM, without waiting until the app runs")
    .action(async (name: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const { opts, io } = ctx();
      const c = await sdk();
      const { InputError } = c;
      const flist = String(o.flist);
      const flists = await knownFlists(opts);
        const url = /^https?:\/\//.test(flist) ? flist : flists[flist];
      if (!url) throw new InputError(`unknown flist '${flist}'`, { hint: `give a hub URL, or one of: ${Object.keys(flists).join(", ") || "(no local grid flists)"}` });
      const model = vmDeployModel(c, name, url, o);
      await withGrid(opts, async (grid) => {
        const info = await withInterrupt(io, (signal) => grid.vms.deploy(model, { signal, onProgress: io.progress, waitRunning: o.wait !== false }));
        const hints = opts.json ? undefined : await imageHints(info.flist);
        io.result(info, () => describeVm(info, hints));
      });
    });

  vm.command("ls").description("list your VMs with their state and IP").action(async () => {
    const { opts, io } = ctx();
    await withGridReader(opts, async (grid) => {
      const vms = await grid.vms.list();
      io.result(vms, () => table(vms.map((v) => ({ ...v, memory: `${v.memoryMiB} MiB`, health: v.health?.status ?? "" })), ["name", "state", "health", "node", "ip", "publicIp", "network", "contractId", "cpu", "memory", "project"].map((c) => (c === "node" ? "nodeId" : c))));
    });
  });

  vm.command("get <name>").description("one VM in detail").action(async (name: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      const info = await grid.vms.get(name);
      const hints = opts.json || !info.flist ? undefined : await imageHints(info.flist);
      io.result(info, () => describeVm(info, hints));
    });
  });

  vm.command("rm <name>").alias("delete").description("remove a VM (cancels its contract)").action(async (name: string) => {
    const { opts, io } = ctx();
    await withGrid(opts, async (grid) => {
      io.progress(`removing '${name}'`);
      const info = await grid.vms.delete(name);
      io.result(info, () => `removed VM '${name}' (contract ${info.contractId} cancelled)`);
    });
  });

  const logs = (cmd: string, what: string) => vm.command(`${cmd} <name>`).description(what)
    .option("--lines <n>", "last lines", "50")
    .option("-f, --follow", "keep printing new console output (Ctrl-C ends)")
    .action(async (name: string, o: { lines: string; follow?: boolean }) => {
      const { opts, io } = ctx();
      await withGrid(opts, async (grid) => {
        const info = await grid.vms.get(name);
        const first = await grid.vms.logs(name, { maxBytes: 256 * 1024 }, info);
        const lines = first.log.split("\n").slice(-Number(o.lines) - 1).join("\n");
        if (!o.follow) {
          io.result({ name, state: first.state, reason: first.reason, console: lines }, () => lines + (first.reason ? `\n[${name}: ${first.state}: ${first.reason}]` : ""));
          return;
        }
        process.stdout.write(lines);
        let offset = first.size;
        // until Ctrl-C (the default SIGINT ends the process)
        for (;;) {
          await new Promise((r) => setTimeout(r, 1000));
          const next = await grid.vms.logs(name, { offset, maxBytes: 256 * 1024 }, info);
          if (next.offset < offset) process.stdout.write("\n[console rotated]\n");
          process.stdout.write(next.log);
          offset = next.offset + Buffer.byteLength(next.log);
        }
      });
    });
  logs("logs", "the VM's console output, read from its node (also stopped or crashed VMs)");
  logs("console", "the VM's console output (same as `vm logs`)");

  vm.command("exec <name> <command...>").description("run a command in the running VM, like the app (its root, user, working dir, env); exit code = the command's")
    .usage("<name> [options] -- <command...>")
    .option("-e, --env <KEY=VALUE>", "extra environment variable (repeatable)", collect, [])
    .option("-w, --workdir <dir>", "working directory (default: the image's WorkingDir)")
    .option("-u, --user <user>", "user: name|uid[:group|gid] (default: the image's User)")
    .option("--timeout <sec>", "time limit in seconds, at most 600 (with -i/-t: 3600, the default); the command is killed")
    .option("-i, --interactive", "stream this stdin to the command as it comes (a pipe, a file or the terminal), e.g. `vm exec db -i -- sh < fix.sh`")
    .option("-t, --tty", "a terminal in the guest (with -i from a terminal here: raw mode, window size follows), e.g. `vm exec web -it -- sh`")
    .action(async (name: string, command: string[], o: { env: string[]; workdir?: string; user?: string; timeout?: string; interactive?: boolean; tty?: boolean }) => {
      const { opts, io } = ctx();
      const c = await sdk();
      const stream = o.interactive === true || o.tty === true;
      const maxSec = stream ? 3600 : 600;
      const timeoutSec = Number(o.timeout ?? (stream ? maxSec : 60));
      if (!Number.isInteger(timeoutSec) || timeoutSec < 1 || timeoutSec > maxSec) throw new c.InputError(`--timeout must be 1-${maxSec} seconds, got '${o.timeout}'`, { hint: "e.g. --timeout 120" });
      if (stream && opts.json) throw new c.InputError("vm exec -i/-t streams the command's output: --json does not apply", { hint: "drop --json, or run the command without -i/-t (its output is collected)" });
      const env = o.env.length ? { env: Object.fromEntries(o.env.map((e) => parseEnv(c, e))) } : {};
      const where = { ...(o.workdir ? { workdir: o.workdir } : {}), ...(o.user ? { user: o.user } : {}) };
      if (stream) {
        const { runExecStream } = await import("./vm-exec-stream.ts");
        await withGrid(opts, async (grid) => {
          const size = o.tty && process.stdout.isTTY ? { rows: Math.min(process.stdout.rows || 24, 1000), cols: Math.min(process.stdout.columns || 80, 1000) } : {};
          const s = await grid.vms.execSession(name, command, { ...env, ...where, ...size, tty: o.tty === true, timeoutSec });
          const x = await runExecStream(s, { tty: o.tty === true, interactive: o.interactive === true });
          process.exitCode = x.timed_out ? 124 : x.exit_code ?? 128 + (x.signal ?? 0);
          if (x.timed_out) process.stderr.write(`\r\n[zgrid: the command ran into its ${timeoutSec} s time limit and was killed]\r\n`);
          else if (x.reason) process.stderr.write(`\r\n[zgrid: ${x.reason}]\r\n`);
        });
        return;
      }
      await withGrid(opts, async (grid) => {
        const r = await grid.vms.exec(name, command, { timeoutSec, ...env, ...where });
        // like `timeout`: 124 on the time limit; 128+N when signal N ended it
        process.exitCode = r.timed_out ? 124 : r.exit_code ?? 128 + (r.signal ?? 0);
        const marker = r.truncated ? "[zgrid: output truncated at 128 KiB; the command was killed]\n" : "";
        const timedOut = r.timed_out ? `[zgrid: the command ran into its ${timeoutSec} s time limit and was killed]\n` : "";
        if (opts.json) {
          io.result({ name, command, ...r, exitCode: process.exitCode }, () => "");
          return;
        }
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr + marker + timedOut);
      });
    });

  for (const action of ["stop", "start", "restart"] as const) {
    vm.command(`${action} <name>`).description(action === "stop" ? "stop the VM (disks kept; it stays stopped until `vm start`)" : action === "start" ? "start a stopped or crashed VM again" : "stop and start the VM (disks kept)")
      .action(async (name: string) => {
        const { opts, io } = ctx();
        await withGrid(opts, async (grid) => {
          io.progress(`${action === "stop" ? "stopping" : action === "start" ? "starting" : "restarting"} '${name}'`);
          const r = await grid.vms.action(name, action);
          io.result({ name, state: r.state, reason: r.reason }, () => `vm ${name}: ${r.state}${r.reason ? ` (${r.reason})` : ""}`);
        });
      });
  }
}

/**
 * How to get into the VM's private network from this host. Node daemons (also those in the local
 * grid's node hosts) create their network namespaces in the host's mount namespace, so
 * `ip netns exec` reaches them from any shell, whichever daemon process made them.
 */
export function reachPrefix(v: VmInfo): string {
  return `ip netns exec ${v.namespace}`;
}

/**
 * The VM model `vm deploy` sends, from its options (commander's camelCase keys) and the flist URL.
 *
 * @example
 * ```ts
 * vmDeployModel(await sdk(), "web", url, { cpu: "1", memory: "256", rootfs: "0", disk: [], env: [], network: "default", publicIp6: true });
 * ```
 */
export function vmDeployModel(c: Sdk, name: string, url: string, o: Record<string, string | string[] | boolean | undefined>): VmModelInput {
  return {
    name, flist: url, cpu: Number(o.cpu), memory: mib(c, String(o.memory), "--memory"), rootfs: mib(c, String(o.rootfs), "--rootfs"),
    disks: (o.disk as string[]).map((d) => parseDisk(c, d)), env: Object.fromEntries((o.env as string[]).map((e) => parseEnv(c, e))), network: String(o.network),
    ...(o.node ? { node: Number(o.node) } : {}), ...(o.farm ? { farm: Number(o.farm) } : {}), ...(o.country ? { country: String(o.country) } : {}), ...(o.spread ? { placement: "spread" as const } : {}),
    ...(o.sshKey ? { ssh_key: readKey(c, String(o.sshKey)) } : {}), ...(o.entrypoint !== undefined ? { entrypoint: String(o.entrypoint) } : {}), ...(o.cmd !== undefined ? { cmd: String(o.cmd) } : {}), ...(o.publicIp ? { public_ip: true } : {}), ...(o.publicIp6 ? { public_ip6: true } : {}),
  };
}

/** `hints`: what the image serves (ssh, ports); without them nothing is suggested that may not work. */
export function describeVm(v: VmInfo, hints?: ImageHints): string {
  const via = reachPrefix(v);
  const pub = v.publicIp.split("/")[0];
  const ways = (host: string) => [...(hints?.ssh ? [`ssh root@${host}`] : []), ...(hints?.ports ?? []).slice(0, 3).map((p) => `curl http://${host}${p === 80 ? "" : `:${p}`}/`)];
  return [
    `vm ${v.name}: ${v.state}${v.message ? ` (${v.message})` : ""}`,
    `  node ${v.nodeId}, contract ${v.contractId}, network ${v.network}, ip ${v.ip || "-"}${v.publicIp ? `, public ip ${v.publicIp}` : ""}${v.publicIp6 ? `, public ipv6 ${v.publicIp6}` : ""}`,
    `  ${v.cpu} vCPU, ${v.memoryMiB} MiB, flist ${v.flist}`,
    ...(v.health ? [describeHealth(v.health)] : []),
    `  console: zgrid vm logs ${v.name}${v.consoleLog ? `   (on the node: ${v.consoleLog})` : ""}`,
    ...(v.consoleTail ? ["  --- last console lines ---", ...v.consoleTail.split("\n").map((l) => `  | ${l}`)] : []),
    ...(pub && ways(pub).length ? [`  reach it: ${ways(pub).join("   or   ")}`] : []),
    ...(v.ip && ways(v.ip).length ? [`  private:  ${ways(v.ip).map((w) => `${via} ${w}`).join("\n            ")}`] : []),
    ...(v.ip && hints && !ways(v.ip).length ? [`  private:  ${via} <command> ${v.ip}   (the image has no sshd and exposes no port)`] : []),
  ].join("\n");
}

/** `  health: unhealthy (3 failed checks in a row; last output: …)` */
export function describeHealth(h: NonNullable<VmInfo["health"]>): string {
  const out = h.last_output.trim().split("\n").slice(-3).join(" | ").slice(0, 300);
  const streak = h.failing_streak ? `${h.failing_streak} failed check${h.failing_streak === 1 ? "" : "s"} in a row` : "";
  const when = h.at ? `last check ${new Date(h.at).toISOString()}` : "no check ended yet";
  return `  health: ${h.status} (${[streak, when, out ? `output: ${out}` : ""].filter(Boolean).join("; ")})`;
}

function mib(c: Sdk, text: string, flag: string): number {
  const bytes = c.parseSize(text, "M");
  if (!Number.isFinite(bytes)) throw new c.InputError(`${flag} ${text}: not a size`, { hint: "give MiB (512) or a unit (2G)" });
  return Math.round(bytes / 1024 ** 2);
}

function parseDisk(c: Sdk, text: string): { name: string; size: number; mountpoint: string } {
  const [name, size, mountpoint] = text.split(":");
  if (!name || !size || !mountpoint) throw new c.InputError(`--disk ${text}: expected name:size:/mountpoint`, { hint: "e.g. --disk data:1G:/data" });
  return { name, size: mib(c, size, "--disk"), mountpoint };
}

function parseEnv(c: Sdk, text: string): [string, string] {
  const i = text.indexOf("=");
  if (i < 1) throw new c.InputError(`--env ${text}: expected KEY=VALUE`);
  return [text.slice(0, i), text.slice(i + 1)];
}

function readKey(c: Sdk, v: string): string {
  if (/^(ssh-|ecdsa-)/.test(v)) return v.trim();
  if (!existsSync(v)) throw new c.InputError(`--ssh-key ${v}: neither a key nor a file`, { hint: "pass the public key text or a path like ~/.ssh/id_ed25519.pub" });
  return readFileSync(v, "utf8").trim();
}
