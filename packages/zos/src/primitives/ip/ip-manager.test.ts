import assert from "node:assert/strict";
import { test } from "node:test";
import { renderConfigSh } from "../../hypervisor/guest-config.ts";
import { parseVmSpec } from "../../hypervisor/vm-spec.ts";
import { ipv6For } from "./ip-manager.ts";

test("a workload's IPv6 is in the node's v6 range, stable per workload, distinct between workloads", () => {
  const a = ipv6For("fd85:69::11/64", "3-7-pub");
  assert.match(a, /^fd85:69::[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}\/64$/);
  assert.equal(ipv6For("fd85:69::11/64", "3-7-pub"), a);
  assert.notEqual(ipv6For("fd85:69::11/64", "3-8-pub"), a);
  assert.match(ipv6For("2a02:1802:5e:1:2::11/48", "x"), /^2a02:1802:5e:/, "host bits of a shorter prefix are cleared, the prefix kept");
  assert.throws(() => ipv6For("fd85:69::11/80", "x"), /at most \/64/);
});

test("a VM with a public NIC: its address, the farm gateway as default route, the private range through the first NIC, IPv6", () => {
  const spec = parseVmSpec({
    id: "vm1", rootShare: "/tmp/root",
    network: { bridge: "b-1", ip: "10.20.3.5/24", routes: [{ dst: "10.20.0.0/16", via: "10.20.3.1" }] },
    extraNetworks: [{ bridge: "br-pub", ip: "185.69.0.10/24", gateway: "185.69.0.1", ip6: "fd85:69::1234/64", gateway6: "fd85:69::1" }],
  });
  const sh = renderConfigSh(spec);
  assert.match(sh, /ZG_NICS='[0-9a-f:]{17}=10\.20\.3\.5\/24 [0-9a-f:]{17}=185\.69\.0\.10\/24'/);
  assert.match(sh, /ZG_GATEWAY='185\.69\.0\.1'/);
  assert.match(sh, /ZG_ROUTES='10\.20\.0\.0\/16=10\.20\.3\.1'/);
  assert.match(sh, /ZG_NICS6='[0-9a-f:]{17}=fd85:69::1234\/64'/);
  assert.match(sh, /ZG_GATEWAY6='fd85:69::1'/);
  // an IPv6-only public NIC carries no IPv4
  const v6only = renderConfigSh(parseVmSpec({ id: "vm2", rootShare: "/tmp/root", network: { bridge: "b-1", ip: "10.20.3.6/24", gateway: "10.20.3.1" }, extraNetworks: [{ bridge: "br-pub", ip6: "fd85:69::99/64", gateway6: "fd85:69::1" }] }));
  assert.match(v6only, /ZG_NICS='[0-9a-f:]{17}=10\.20\.3\.6\/24'/);
  assert.match(v6only, /ZG_GATEWAY='10\.20\.3\.1'/);
});
