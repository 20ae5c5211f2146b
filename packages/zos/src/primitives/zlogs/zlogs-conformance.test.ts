// zlogs against the manager conformance suite: a real console file and a real TCP sink on
// loopback speaking to redis:// outputs; the footprint is the streams connected at the sink (what a
// leak would leave: a connection pushing a tenant's console somewhere after the workload is gone).
// The stream lives in the daemon process, so a crash leaves nothing: the restarted manager's adopt
// starts it again. An output the egress policy refuses fails the workload, saying why.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@zgrid/log";
import { parseDeployment, type WorkloadOf } from "@zgrid/types";
import { sampleDeploymentJson } from "@zgrid/types/testing";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import { managerConformance } from "../../testing/manager-conformance.ts";
import { zlogsManager } from "./zlogs-manager.ts";

const dir = mkdtempSync(join(tmpdir(), "zos-zlogs-"));
const consoleLog = join(dir, "console.log");
writeFileSync(consoleLog, "");
const live = new Set<Socket>();
const received: string[] = [];
const sink = createServer((s) => {
  live.add(s);
  s.on("data", (d: Buffer) => received.push(d.toString()));
  s.on("close", () => live.delete(s));
  s.on("error", () => undefined);
});
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const port = (sink.address() as AddressInfo).port;
after(async () => {
  for (const s of live) s.destroy();
  await new Promise((r) => sink.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const deployment = { ...parseDeployment(sampleDeploymentJson({ twinId: 7 })), contract_id: 12 };
const vm = deployment.workloads.find((w) => w.type === "zmachine")!.name;
const workload = {
  version: 0,
  name: "logs",
  type: "zlogs",
  metadata: "",
  description: "",
  data: { zmachine: vm, output: `redis://127.0.0.1:${port}/vmlogs` },
} as WorkloadOf<"zlogs">;
const policy = new EgressPolicy({ allow: [`127.0.0.1:${port}`] });
const make = () => zlogsManager({ policy, consoleOf: async (_ctx, name) => (name === vm ? consoleLog : undefined) });

/** The streams connected at the sink once they settled (a streamer polls every 300 ms). */
async function connected(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 900));
  return [...live].map(() => "a stream connected to the sink");
}

managerConformance("zlogs", () => {
  const manager = make();
  const context = { deployment, workloadId: `7-12-${workload.name}`, log: createLogger("test.zlogs"), resultOf: () => undefined };
  return {
    manager,
    workload,
    context,
    footprint: connected,
    inProcess: true,
    restarted: make,
    // the daemon's death ends its streams (their connections close with it)
    crash: () => manager.deprovision(context, workload),
    refused: { workload: { ...workload, data: { ...workload.data, output: "redis://127.0.0.1:1/vmlogs" } }, error: /127\.0\.0\.1 is a loopback address/ },
    update: {
      workload: { ...workload, version: 1, data: { ...workload.data, output: `redis://127.0.0.1:${port}/other` } },
      async check(result) {
        assert.deepEqual(result, { zmachine: vm, output: `redis://127.0.0.1:${port}/other` });
        received.length = 0;
        await new Promise((r) => setTimeout(r, 600));
        appendFileSync(consoleLog, "a line after the update\n");
        const end = Date.now() + 5000;
        while (!received.join("").includes("a line after the update") && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        assert.match(received.join(""), /\$5\r\nother\r\n\$23\r\na line after the update/, "the line goes to the new channel");
      },
    },
  };
});
