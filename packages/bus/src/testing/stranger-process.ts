/**
 * Hostile strangers in their own process (so their CPU does not slow the test's own twin):
 * `strangers` libp2p peers with fresh keys (no twin has them) each open `streams` bus streams to
 * `target` and leave on each a request frame claiming `claim` bytes unfinished. Config as JSON in
 * ZGRID_STRANGERS: { target, strangers, streams, claims: number[] } (one flood per claim, in
 * turn). Prints `FLOODED <json>` ({ opened: per stranger }) and then holds its connections until
 * killed, printing `CLOSED` once the target closed all of them.
 *
 * @example
 * ```ts
 * spawn(process.execPath, [strangerScript], { env: { ...process.env, ZGRID_STRANGERS: JSON.stringify(cfg) } });
 * ```
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Libp2p } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { twinKeyFromPrivateKey } from "@zgrid/types/core";
import { createPeerNode } from "../node/create-peer-node.ts";
import { BUS_PROTOCOL } from "../wire/protocol.ts";
import { frameHead } from "./frame-head.ts";

interface StrangerConfig {
  target: string;
  strangers: number;
  streams: number;
  claims: number[];
}

/** One stranger's flood: returns how many streams the target let it open. */
async function flood(stranger: Libp2p, target: string, streams: number, claim: number): Promise<number> {
  let opened = 0;
  const chunk = randomBytes(64 * 1024);
  await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      try {
        const stream = await stranger.dialProtocol(multiaddr(target), BUS_PROTOCOL, { signal: AbortSignal.timeout(5_000) });
        opened++;
        stream.send(frameHead(claim, (i % 100) + 1));
        for (let sent = 0; sent + chunk.byteLength < claim && stream.writeStatus === "writable"; sent += chunk.byteLength) {
          if (!stream.send(chunk)) await Promise.race([once(stream, "drain"), once(stream, "close"), new Promise((r) => setTimeout(r, 2_000))]);
        }
        const rest = claim % chunk.byteLength;
        if (rest > 1 && stream.writeStatus === "writable") stream.send(chunk.subarray(0, rest - 1));
      } catch {
        // refused or reset by the target: that is the point
      }
    }),
  );
  return opened;
}

const config = JSON.parse(process.env.ZGRID_STRANGERS ?? "{}") as StrangerConfig;
const nodes: Libp2p[] = [];
for (let i = 0; i < config.strangers; i++) nodes.push(await createPeerNode({ key: twinKeyFromPrivateKey(`0x${randomBytes(32).toString("hex")}`), listen: [] }));
let opened: number[] = [];
for (const claim of config.claims) opened = await Promise.all(nodes.map((n) => flood(n, config.target, config.streams, claim)));
process.stdout.write(`FLOODED ${JSON.stringify({ opened })}\n`);
while (nodes.some((n) => n.getConnections().length > 0)) await new Promise((r) => setTimeout(r, 100));
process.stdout.write("CLOSED\n");
process.on("SIGTERM", () => process.exit(0));
