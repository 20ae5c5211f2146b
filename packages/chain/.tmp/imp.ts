const { installStripCache } = await import("/work/wt/c14/packages/cli/src/strip-cache.ts");
installStripCache();
const t = process.cpuUsage();
for (const m of process.argv.slice(2)) await import(m);
const u = process.cpuUsage(t);
console.log(process.argv.slice(2).join(" "), ((u.user + u.system) / 1e6).toFixed(3), "s CPU");
