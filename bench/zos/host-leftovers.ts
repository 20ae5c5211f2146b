// What a zos bench leaves on the host: network namespaces, links (bridges, veths, taps, wireguard),
// FUSE mounts, QEMU and mount-worker processes, wireguard-go control sockets that exist after the run and did not before it. Benches run under
// the VM lock, so nothing else makes these meanwhile. Also stops the bench's fixture on Ctrl-C or
// kill (a bench killed by `timeout` used to leave a tenant network's namespace and br-ndmz).
//   const before = hostSnapshot(); … ; reportLeftovers(before);   // exit code 1 when something is left
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";

export interface HostSnapshot { netns: string[]; links: string[]; mounts: string[]; qemu: string[]; mountWorkers: string[]; wgSockets: string[] }

const lines = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean);

/** The namespaces, links, FUSE mounts and QEMU pids on the host now. */
export function hostSnapshot(): HostSnapshot {
  return {
    netns: lines("ip", ["netns", "list"]).map((l) => l.split(" ")[0]!),
    links: lines("ip", ["-br", "link"]).map((l) => l.split(/\s+/)[0]!.split("@")[0]!),
    mounts: readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => /\bfuse/.test(l)).map((l) => l.split(" ")[1]!),
    qemu: lines("pgrep", ["-f", "^qemu-system"]),
    mountWorkers: lines("pgrep", ["-f", "mount-worker"]),
    wgSockets: existsSync("/var/run/wireguard") ? readdirSync("/var/run/wireguard") : [],
  };
}

/** Prints what is on the host now that was not in `before`; sets the exit code to 1 when anything is. */
export function reportLeftovers(before: HostSnapshot): string[] {
  const now = hostSnapshot();
  const left = (Object.keys(now) as Array<keyof HostSnapshot>).flatMap((k) => now[k].filter((x) => !before[k].includes(x)).map((x) => `${k} ${x}`));
  if (left.length > 0) {
    console.error(`LEFT ON THE HOST by this run: ${left.join(", ")}`);
    process.exitCode = 1;
  } else console.log("nothing left on the host (namespaces, links, FUSE mounts, QEMU, mount workers, wireguard-go sockets)");
  return left;
}

/** On SIGINT/SIGTERM: runs `stop` (the fixture's teardown), reports leftovers, exits 130. */
export function stopOnSignal(stop: () => Promise<void>, before: HostSnapshot): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      console.error(`${sig}: stopping the fixture`);
      void stop().catch((e: unknown) => console.error(e)).finally(() => {
        reportLeftovers(before);
        process.exit(130);
      });
    });
  }
}
