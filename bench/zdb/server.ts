/**
 * Child process of bench/zdb/run.ts: zdb services (each its own data dir and port) with one
 * namespace each, so the bench client and the server run on different event loops, as with
 * redis-server. Prints `READY {"ports":[…]}`; exits when stdin closes.
 *   ZDB_BENCH='{"dir":"/tmp/x","count":1,"durable":true}' node bench/zdb/server.ts
 */
import { join } from "node:path";
import { ZdbService } from "@zgrid/zos";

const o = JSON.parse(process.env.ZDB_BENCH ?? "{}") as { dir: string; count: number; durable: boolean };
const services: ZdbService[] = [];
const ports: number[] = [];
for (let i = 0; i < o.count; i++) {
  const s = new ZdbService({ dir: join(o.dir, `svc${i}`), durable: o.durable });
  ports.push(await s.start({ host: "127.0.0.1", port: 0 }));
  s.ensureNamespace({ name: `bench${i}`, owner: 1, mode: "user", size: 8 * 1024 ** 3, password: "pw", public: false });
  services.push(s);
}
process.stdout.write(`READY ${JSON.stringify({ ports })}\n`);
process.stdin.resume();
process.stdin.on("end", async () => {
  for (const s of services) await s.stop();
  process.exit(0);
});
