// zosd idle RSS (issue 14: goal <= 150 MiB): a node daemon with no workloads, registered and
// serving (bus, chain sync, VM monitor, uptime reporter), measured with the Node flags zosd runs
// with (ZOSD_NODE_FLAGS) against the same daemon with Node's defaults, in the same run. RSS is
// sampled for a while after the daemon said ready; the median of the samples is printed. Boots no
// VM, but zosd makes network namespaces and bridges: run it under the VM lock.
//   flock -w 1800 /tmp/zgrid-vm.lock node bench/zos/idle-rss.ts [seconds=20]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { ZOSD_NODE_FLAGS } from "../../packages/zos/src/index.ts";
import { startNodeFixture, type NodeFixture } from "../../packages/zos/src/testing/node-fixture.ts";
import { hostSnapshot, reportLeftovers, stopOnSignal } from "./host-leftovers.ts";

const seconds = Number(process.argv[2] ?? 20);
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const before = hostSnapshot();
let current: NodeFixture | undefined;
stopOnSignal(async () => current?.stop(), before);

async function idleRss(flags: readonly string[]): Promise<{ median: number; max: number }> {
  const f = (current = await startNodeFixture({ entrypoint: "#!/bin/sh\nexec sleep 1000\n", zosdNodeFlags: flags }));
  try {
    await f.startNode();
    const samples: number[] = [];
    for (let i = 0; i < seconds; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      samples.push(rssMiB(f.nodePid()!));
    }
    return { median: median(samples.slice(Math.floor(samples.length / 2))), max: Math.max(...samples) };
  } finally {
    await f.stop();
    current = undefined;
  }
}

try {
  const base = await idleRss([]);
  const tuned = await idleRss(ZOSD_NODE_FLAGS);
  console.log(`zosd idle RSS, Node defaults (baseline)   ${base.median.toFixed(1)} MiB (max ${base.max.toFixed(1)})`);
  console.log(`zosd idle RSS, ${ZOSD_NODE_FLAGS.join(" ").padEnd(26)} ${tuned.median.toFixed(1)} MiB (max ${tuned.max.toFixed(1)})  ${(tuned.median / base.median).toFixed(2)}x baseline (goal <= 150 MiB: ${tuned.median <= 150 ? "met" : "not met"})`);
  console.log(`median of the last ${seconds - Math.floor(seconds / 2)} of ${seconds} one-second samples each; load avg ${loadavg()[0]!.toFixed(2)}`);
} finally {
  reportLeftovers(before);
}
