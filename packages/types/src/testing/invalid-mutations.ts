/**
 * A catalog of mutations of the sample deployment, each of which makes it invalid, with the
 * workload and field the ValidationError must name. Used by the table test and the fuzz test.
 */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const wl = (d: Json, name: string): Json => d.workloads.find((w: Json) => w.name === name);
const vm = (d: Json) => wl(d, "vm").data;

export interface InvalidMutation {
  name: string;
  mutate: (d: Json) => void;
  workload?: string;
  field: string | RegExp;
}

export const INVALID_MUTATIONS: InvalidMutation[] = [
  // deployment envelope
  { name: "twin_id as string", mutate: (d) => { d.twin_id = "7"; }, field: "twin_id" },
  { name: "twin_id zero", mutate: (d) => { d.twin_id = 0; }, field: "twin_id" },
  { name: "negative version", mutate: (d) => { d.version = -1; }, field: "version" },
  { name: "fractional expiration", mutate: (d) => { d.expiration = 1.5; }, field: "expiration" },
  { name: "unknown deployment field", mutate: (d) => { d.extra = 1; }, field: "(root)" },
  { name: "workloads not an array", mutate: (d) => { d.workloads = {}; }, field: "workloads" },
  { name: "metadata too long", mutate: (d) => { d.metadata = "x".repeat(2000); }, field: "metadata" },
  { name: "no signature requests", mutate: (d) => { d.signature_requirement.requests = []; }, field: "signature_requirement.requests" },
  { name: "weight_required above total", mutate: (d) => { d.signature_requirement.weight_required = 5; }, field: "signature_requirement.weight_required" },
  { name: "own twin not in requests", mutate: (d) => { d.signature_requirement.requests = [{ twin_id: d.twin_id + 1, required: true, weight: 1 }]; }, field: "signature_requirement.requests" },
  { name: "duplicate request twin", mutate: (d) => { d.signature_requirement.requests.push({ twin_id: d.twin_id, required: false, weight: 1 }); }, field: "signature_requirement.requests.1.twin_id" },
  { name: "signature from unlisted twin", mutate: (d) => { d.signature_requirement.signatures = [{ twin_id: d.twin_id + 1, signature: "ab".repeat(65), signature_type: "secp256k1" }]; }, field: "signature_requirement.signatures.0.twin_id" },
  { name: "malformed signature hex", mutate: (d) => { d.signature_requirement.signatures = [{ twin_id: d.twin_id, signature: "zz", signature_type: "secp256k1" }]; }, field: "signature_requirement.signatures.0.signature" },
  { name: "unknown signature type", mutate: (d) => { d.signature_requirement.signatures = [{ twin_id: d.twin_id, signature: "ab".repeat(65), signature_type: "ed25519" }]; }, field: "signature_requirement.signatures.0.signature_type" },
  // workload envelope
  { name: "unknown workload type", mutate: (d) => { wl(d, "data").type = "kubernetes"; }, workload: "data", field: "type" },
  { name: "invalid workload name", mutate: (d) => { wl(d, "data").name = "my disk"; }, workload: "my disk", field: "name" },
  { name: "workload name too long", mutate: (d) => { wl(d, "db").name = "a".repeat(37); }, workload: "a".repeat(37), field: "name" },
  { name: "duplicate workload name", mutate: (d) => { wl(d, "db").name = "data"; }, workload: "data", field: "name" },
  { name: "workload version above deployment's", mutate: (d) => { wl(d, "db").version = d.version + 1; }, workload: "db", field: "version" },
  { name: "workload data missing", mutate: (d) => { delete wl(d, "db").data; }, workload: "db", field: /^data/ },
  { name: "unknown data field", mutate: (d) => { wl(d, "db").data.color = "red"; }, workload: "db", field: "data" },
  // zmachine
  { name: "cpu 0", mutate: (d) => { vm(d).compute_capacity.cpu = 0; }, workload: "vm", field: "data.compute_capacity.cpu" },
  { name: "cpu fractional", mutate: (d) => { vm(d).compute_capacity.cpu = 1.5; }, workload: "vm", field: "data.compute_capacity.cpu" },
  { name: "cpu as string", mutate: (d) => { vm(d).compute_capacity.cpu = "2"; }, workload: "vm", field: "data.compute_capacity.cpu" },
  { name: "memory below 250 MiB", mutate: (d) => { vm(d).compute_capacity.memory = 200 * MiB; }, workload: "vm", field: "data.compute_capacity.memory" },
  { name: "root size below 500 MiB", mutate: (d) => { vm(d).size = 100 * MiB; }, workload: "vm", field: "data.size" },
  { name: "root size below 2 GiB on a big machine", mutate: (d) => { vm(d).compute_capacity = { cpu: 16, memory: 32 * GiB }; vm(d).size = GiB; }, workload: "vm", field: "data.size" },
  { name: "flist not a URL", mutate: (d) => { vm(d).flist = "ubuntu"; }, workload: "vm", field: "data.flist" },
  { name: "no interface", mutate: (d) => { vm(d).network.interfaces = []; }, workload: "vm", field: "data.network.interfaces" },
  { name: "two interfaces", mutate: (d) => { vm(d).network.interfaces.push({ network: "net", ip: "10.20.2.6" }); }, workload: "vm", field: "data.network.interfaces" },
  { name: "bad private IP", mutate: (d) => { vm(d).network.interfaces[0].ip = "10.20.2.300"; }, workload: "vm", field: "data.network.interfaces.0.ip" },
  { name: "IPv6 private IP", mutate: (d) => { vm(d).network.interfaces[0].ip = "fd00::5"; }, workload: "vm", field: "data.network.interfaces.0.ip" },
  { name: "private IP ending in .1", mutate: (d) => { vm(d).network.interfaces[0].ip = "10.20.2.1"; }, workload: "vm", field: "data.network.interfaces.0.ip" },
  { name: "private IP outside node subnet", mutate: (d) => { vm(d).network.interfaces[0].ip = wl(d, "net").data.subnet === "10.20.3.0/24" ? "10.20.4.5" : "10.20.3.5"; }, workload: "vm", field: "data.network.interfaces.0.ip" },
  { name: "missing network", mutate: (d) => { vm(d).network.interfaces[0].network = "other"; }, workload: "vm", field: "data.network.interfaces.0.network" },
  { name: "missing disk", mutate: (d) => { vm(d).mounts[0].name = "nodisk"; }, workload: "vm", field: "data.mounts.0.name" },
  { name: "mount naming a non-disk", mutate: (d) => { vm(d).mounts[0].name = "db"; }, workload: "vm", field: "data.mounts.0.name" },
  { name: "relative mountpoint", mutate: (d) => { vm(d).mounts[0].mountpoint = "data"; }, workload: "vm", field: "data.mounts.0.mountpoint" },
  { name: "mountpoint with ..", mutate: (d) => { vm(d).mounts[0].mountpoint = "/data/../etc"; }, workload: "vm", field: "data.mounts.0.mountpoint" },
  { name: "mountpoint with a space", mutate: (d) => { vm(d).mounts[0].mountpoint = "/my data"; }, workload: "vm", field: "data.mounts.0.mountpoint" },
  { name: "mountpoint with a colon", mutate: (d) => { vm(d).mounts[0].mountpoint = "/data:x"; }, workload: "vm", field: "data.mounts.0.mountpoint" },
  { name: "mountpoint with a quote", mutate: (d) => { vm(d).mounts[0].mountpoint = "/it's"; }, workload: "vm", field: "data.mounts.0.mountpoint" },
  { name: "mount at /", mutate: (d) => { vm(d).mounts[0].mountpoint = "/"; }, workload: "vm", field: "data.mounts.0.mountpoint" },
  { name: "missing public ip workload", mutate: (d) => { vm(d).network.public_ip = "nope"; }, workload: "vm", field: "data.network.public_ip" },
  { name: "bad env name", mutate: (d) => { vm(d).env["1BAD"] = "x"; }, workload: "vm", field: "data.env.1BAD" },
  { name: "env value not a string", mutate: (d) => { vm(d).env.N = 3; }, workload: "vm", field: "data.env.N" },
  { name: "bad mycelium seed", mutate: (d) => { vm(d).network.mycelium = { network: "net", hex_seed: "xyz" }; }, workload: "vm", field: "data.network.mycelium.hex_seed" },
  { name: "public ip shared by two VMs", mutate: (d) => { const two = structuredClone(wl(d, "vm")); two.name = "vm2"; two.data.network.interfaces[0].ip = "10.20.2.6"; two.data.mounts = []; d.workloads.push(two); }, workload: "vm2", field: "data.network.public_ip" },
  { name: "zmount attached to two VMs", mutate: (d) => { const two = structuredClone(wl(d, "vm")); two.name = "vm2"; two.data.network.interfaces[0].ip = "10.20.2.6"; two.data.network.public_ip = ""; d.workloads.push(two); }, workload: "vm2", field: "data.mounts.0.name" },
  { name: "same private IP twice", mutate: (d) => { const two = structuredClone(wl(d, "vm")); two.name = "vm2"; two.data.network.public_ip = ""; two.data.mounts = []; d.workloads.push(two); }, workload: "vm2", field: "data.network.interfaces.0.ip" },
  // zmount / volume / zdb / ip
  { name: "zmount size 0", mutate: (d) => { wl(d, "data").data.size = 0; }, workload: "data", field: "data.size" },
  { name: "zmount negative size", mutate: (d) => { wl(d, "data").data.size = -5; }, workload: "data", field: "data.size" },
  { name: "zmount absurd size", mutate: (d) => { wl(d, "data").data.size = 2 ** 60; }, workload: "data", field: "data.size" },
  { name: "volume size 0", mutate: (d) => { d.workloads.push({ version: 0, name: "vol", type: "volume", data: { size: 0 } }); }, workload: "vol", field: "data.size" },
  { name: "zdb bad mode", mutate: (d) => { wl(d, "db").data.mode = "fast"; }, workload: "db", field: "data.mode" },
  { name: "zdb password with space", mutate: (d) => { wl(d, "db").data.password = "a b"; }, workload: "db", field: "data.password" },
  { name: "ip neither v4 nor v6", mutate: (d) => { wl(d, "pub").data = { v4: false, v6: false }; }, workload: "pub", field: "data.v4" },
  // network
  { name: "ip_range not /16", mutate: (d) => { wl(d, "net").data.ip_range = "10.20.0.0/24"; }, workload: "net", field: "data.ip_range" },
  { name: "ip_range with host bits", mutate: (d) => { wl(d, "net").data.ip_range = "10.20.1.0/16"; }, workload: "net", field: "data.ip_range" },
  { name: "ip_range garbage", mutate: (d) => { wl(d, "net").data.ip_range = "10.20.0/16"; }, workload: "net", field: "data.ip_range" },
  { name: "subnet outside ip_range", mutate: (d) => { wl(d, "net").data.subnet = "10.21.2.0/24"; vm(d).network.interfaces[0].ip = "10.21.2.5"; }, workload: "net", field: "data.subnet" },
  { name: "subnet not /24", mutate: (d) => { wl(d, "net").data.subnet = "10.20.2.0/25"; }, workload: "net", field: "data.subnet" },
  { name: "bad wireguard key", mutate: (d) => { wl(d, "net").data.wireguard_private_key = "short"; }, workload: "net", field: "data.wireguard_private_key" },
  { name: "listen port 0", mutate: (d) => { wl(d, "net").data.wireguard_listen_port = 0; }, workload: "net", field: "data.wireguard_listen_port" },
  { name: "privileged listen port 2", mutate: (d) => { wl(d, "net").data.wireguard_listen_port = 2; }, workload: "net", field: "data.wireguard_listen_port" },
  { name: "privileged listen port 1023", mutate: (d) => { wl(d, "net").data.wireguard_listen_port = 1023; }, workload: "net", field: "data.wireguard_listen_port" },
  { name: "listen port too big", mutate: (d) => { wl(d, "net").data.wireguard_listen_port = 70000; }, workload: "net", field: "data.wireguard_listen_port" },
  { name: "peer subnet overlaps own", mutate: (d) => { wl(d, "net").data.peers[0].subnet = wl(d, "net").data.subnet; }, workload: "net", field: "data.peers.0.subnet" },
  { name: "peer bad allowed ip", mutate: (d) => { wl(d, "net").data.peers[0].allowed_ips = ["10.20.3.0"]; }, workload: "net", field: "data.peers.0.allowed_ips.0" },
  { name: "peer bad endpoint", mutate: (d) => { wl(d, "net").data.peers[0].endpoint = "192.0.2.10"; }, workload: "net", field: "data.peers.0.endpoint" },
  // gateways and zlogs
  { name: "gateway name with dot", mutate: (d) => { wl(d, "gw").data.name = "web.site"; }, workload: "gw", field: "data.name" },
  { name: "gateway name too short", mutate: (d) => { wl(d, "gw").data.name = "ab"; }, workload: "gw", field: "data.name" },
  { name: "gateway loopback backend", mutate: (d) => { wl(d, "gw").data.backends = ["http://127.0.0.1:80"]; }, workload: "gw", field: "data.backends.0" },
  { name: "gateway IPv4-mapped loopback backend", mutate: (d) => { wl(d, "gw").data.backends = ["http://[::ffff:127.0.0.1]:8080"]; }, workload: "gw", field: "data.backends.0" },
  { name: "gateway IPv4-compatible loopback backend", mutate: (d) => { wl(d, "gw").data.backends = ["http://[::127.0.0.1]:8080"]; }, workload: "gw", field: "data.backends.0" },
  { name: "passthrough mapped loopback backend", mutate: (d) => { wl(d, "gwf").data.backends = ["[::ffff:7f00:1]:443"]; }, workload: "gwf", field: "data.backends.0" },
  { name: "gateway multicast backend", mutate: (d) => { wl(d, "gw").data.backends = ["http://224.0.0.1:80"]; }, workload: "gw", field: "data.backends.0" },
  { name: "gateway backend without scheme", mutate: (d) => { wl(d, "gw").data.backends = ["10.20.2.5:80"]; }, workload: "gw", field: "data.backends.0" },
  { name: "gateway no backends", mutate: (d) => { wl(d, "gw").data.backends = []; }, workload: "gw", field: "data.backends" },
  { name: "gateway missing network", mutate: (d) => { wl(d, "gw").data.network = "nonet"; }, workload: "gw", field: "data.network" },
  { name: "passthrough backend with scheme", mutate: (d) => { wl(d, "gwf").data.backends = ["https://203.0.113.7:443"]; }, workload: "gwf", field: "data.backends.0" },
  { name: "passthrough backend port 0", mutate: (d) => { wl(d, "gwf").data.backends = ["203.0.113.7:0"]; }, workload: "gwf", field: "data.backends.0" },
  { name: "fqdn single label", mutate: (d) => { wl(d, "gwf").data.fqdn = "localhost"; }, workload: "gwf", field: "data.fqdn" },
  { name: "fqdn with bad label", mutate: (d) => { wl(d, "gwf").data.fqdn = "-a.example.com"; }, workload: "gwf", field: "data.fqdn" },
  { name: "zlogs unknown zmachine", mutate: (d) => { wl(d, "logs").data.zmachine = "novm"; }, workload: "logs", field: "data.zmachine" },
  { name: "zlogs http output", mutate: (d) => { wl(d, "logs").data.output = "http://10.0.0.1/"; }, workload: "logs", field: "data.output" },
];

