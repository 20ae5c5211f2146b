// Child process of zdb-node.ts: one zdb service (the node's), its namespaces, `READY <port>` on
// stdout; stops cleanly when stdin closes.
import { ZdbService } from "../primitives/zdb/zdb-service.ts";

const o = JSON.parse(process.env.ZDB_NODE ?? "{}") as { dir: string; port?: number; namespaces: Array<{ name: string; password: string; size?: number }> };
const service = new ZdbService({ dir: o.dir });
const port = await service.start({ host: "127.0.0.1", port: o.port ?? 0 });
for (const ns of o.namespaces) {
  if (!service.lookup(ns.name)) service.ensureNamespace({ name: ns.name, owner: 7, mode: "user", size: ns.size ?? 64 << 20, password: ns.password, public: false });
}
process.stdout.write(`READY ${port}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void service.stop().then(() => process.exit(0));
});
