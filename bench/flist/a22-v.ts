import { verifyFlist } from "@zgrid/flist";
const threads = process.argv[2] === "shared" ? undefined : Number(process.argv[2] ?? 0);
for (let r = 0; r < 4; r++) {
  const c = process.cpuUsage();
  const rep = await verifyFlist({ flist: "/tmp/a22/a.fl", stores: ["dir:///tmp/a22/store"], threads });
  const u = process.cpuUsage(c); const cs = (u.user + u.system) / 1e6;
  console.log(`threads ${threads}: ${(rep.bytes / 2 ** 20 / rep.seconds).toFixed(0)} MiB/s wall, ${(rep.bytes / 2 ** 20 / cs).toFixed(0)} MiB per CPU-s, ok=${rep.ok}`);
}
