/**
 * `zgrid up`, `zgrid down`, `zgrid status`: the local grid.
 */
import type { Command } from "commander";
import { sdk, type Ctx } from "../context.ts";
import { table } from "../output.ts";

export function registerGridCommands(program: Command, ctx: Ctx): void {
  program.command("up").description("start the local grid: dev chain, flist hub, N node daemons, a funded twin, a busybox flist")
    .option("--nodes <n>", "number of nodes", "2")
    .option("--vm-nodes <n>", "also run N nodes as QEMU machines that network-boot this checkout's node release from the local boot server over the underlay (stateless Zero-OS; TCG: minutes per node, 3 GiB each)", "0")
    .option("--accel <mode>", "VM accelerator for the nodes: auto | tcg | kvm", "auto")
    .option("--node-memory <GiB>", "memory each node offers, 2 GiB of it reserved (default 4, 6, 8 … GiB: distinct sizes); a Kubernetes cluster of 1 master + 2 workers on 2 nodes needs 8")
    .option("--host-nodes", "run the node daemons directly on this host instead of node hosts on an underlay bridge (no public IPs); fixed at the data dir's first up")
    .option("--debian", "also build (once, debootstrap, minutes) and publish a Debian 12 flist with sshd")
    .option("--bmc", "run each node daemon under the local grid's simulated BMC (node hosts only): the farm's farmerbot (`zgrid farm bot run`) can power nodes off and wake them by Wake-on-LAN")
    .option("--redis", "also publish flist 'redis': busybox + Debian's redis-cli (a Redis client for VMs, e.g. for zdb)")
    .option("--bot", "also run your twin's 3bot in the background (`zgrid bot status`; log <data dir>/3bot.log)")
    .action(async (o: { nodes: string; vmNodes: string; accel: string; nodeMemory?: string; debian?: boolean; redis?: boolean; hostNodes?: boolean; bmc?: boolean; bot?: boolean }) => {
      const { opts, io } = ctx();
      const { upLocalGrid } = await import("../local-grid/local-grid.ts");
      const started = performance.now();
      let info = await upLocalGrid({ dataDir: opts.dataDir, nodes: Number(o.nodes), vmNodes: Number(o.vmNodes), accel: o.accel, ...(o.nodeMemory !== undefined ? { nodeMemoryGiB: Number(o.nodeMemory) } : {}), underlay: !o.hostNodes, ...(o.bmc ? { bmc: true } : {}), onProgress: io.progress });
      if (o.debian) {
        const { ensureDebianFlist } = await import("../local-grid/debian-flist.ts");
        await ensureDebianFlist({ dataDir: opts.dataDir, onProgress: io.progress });
        info = { ...(await sdk()).readLocalGrid(opts.dataDir), fresh: info.fresh };
      }
      if (o.redis) {
        const { ensureRedisCliFlist } = await import("../local-grid/redis-cli-flist.ts");
        await ensureRedisCliFlist({ dataDir: opts.dataDir, onProgress: io.progress });
        info = { ...(await sdk()).readLocalGrid(opts.dataDir), fresh: info.fresh };
      }
      let botPid: number | undefined;
      if (o.bot) {
        const { startLocalBot } = await import("../local-grid/local-bot.ts");
        botPid = startLocalBot(opts.dataDir);
      }
      const seconds = (performance.now() - started) / 1000;
      io.result({ ...info, ...(botPid ? { botPid } : {}), adminKey: undefined, farmerKey: undefined, user: { ...info.user, privateKey: undefined }, seconds }, () => [
        `local grid ${info.fresh ? "up" : "already up"} in ${opts.dataDir} (${seconds.toFixed(1)} s)`,
        `  dev chain   ${info.rpcUrl}`,
        `  flist hub   ${info.hubUrl}`,
        ...(info.explorerUrl ? [`  explorer    ${info.explorerUrl}`] : []),
        ...Object.entries(info.metrics ?? {}).map(([k, v]) => `  metrics     ${k.padEnd(8)} ${v}`),
        `  farm        ${info.farmId}`,
        `  your twin   ${info.user.twinId} (${info.user.address})`,
        ...(info.underlay ? [`  underlay    bridge ${info.underlay.bridge}, this host ${info.underlay.hostAddress}`] : []),
        ...info.nodes.map((n) => `  node ${n.nodeId}      zosd pid ${n.pid}${n.address ? ` at ${n.address}` : ""}, data ${n.dataDir}, log ${n.log}`),
        ...(info.vmNodes ?? []).map((n) => `  node ${n.nodeId}      network-booted QEMU machine, pid ${n.pid}, console ${n.console}`),
        ...Object.entries(info.flists).map(([k, v]) => `  flist ${k.padEnd(6)} ${v}`),
        ...(botPid ? [`  3bot        pid ${botPid}, log ${opts.dataDir}/3bot.log (zgrid bot status)`] : []),
        `next: zgrid vm deploy web --flist busybox   (then: zgrid vm ls)`,
      ].join("\n"));
    });

  program.command("down").description("stop the local grid: cancel contracts, remove VMs, stop every process (state kept for the next up)")
    .action(async () => {
      const { opts, io } = ctx();
      const { downLocalGrid } = await import("../local-grid/local-grid.ts");
      const r = await downLocalGrid({ dataDir: opts.dataDir, onProgress: io.progress });
      io.result(r, () => `local grid down (${r.cancelled.length} contract(s) cancelled${r.removedVms ? `, ${r.removedVms} leftover VM(s) removed` : ""})`);
    });

  program.command("debian").description("local grid: build (once, with debootstrap) and publish a Debian 12 flist with sshd as flist 'debian'")
    .option("--mirror <url>", "Debian mirror", "http://deb.debian.org/debian")
    .action(async (o: { mirror: string }) => {
      const { opts, io } = ctx();
      const { ensureDebianFlist } = await import("../local-grid/debian-flist.ts");
      const started = performance.now();
      const url = await ensureDebianFlist({ dataDir: opts.dataDir, mirror: o.mirror, onProgress: io.progress });
      const seconds = (performance.now() - started) / 1000;
      io.result({ flist: "debian", url, seconds }, () => `flist debian: ${url} (${seconds.toFixed(1)} s)\nnext: zgrid vm deploy box --flist debian --memory 512 --ssh-key ~/.ssh/id_ed25519.pub`);
    });

  program.command("status").description("what the local grid runs and where")
    .action(async () => {
      const { opts, io } = ctx();
      const { isAlive } = await import("../local-grid/local-grid.ts");
      const info = (await sdk()).readLocalGrid(opts.dataDir);
      const nodes = info.nodes.map((n) => ({ node: n.nodeId, twin: n.twinId, pid: n.pid, alive: isAlive(n.pid), log: n.log }));
      io.result({ rpcUrl: info.rpcUrl, hubUrl: info.hubUrl, ...(info.underlay ? { underlay: info.underlay } : {}), host: { pid: info.supervisorPid, alive: isAlive(info.supervisorPid) }, nodes, flists: info.flists }, () =>
        `chain ${info.rpcUrl}\nhub   ${info.hubUrl}\nhost  pid ${info.supervisorPid} ${isAlive(info.supervisorPid) ? "running" : "NOT running"}\n` + table(nodes, ["node", "twin", "pid", "alive", "log"]));
    });
}
