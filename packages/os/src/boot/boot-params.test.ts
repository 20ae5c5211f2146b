import assert from "node:assert/strict";
import { test } from "node:test";
import { BootParamError } from "./boot-errors.ts";
import { formatBootParams, parseBootParams, parseNetMode } from "./boot-params.ts";

const KEY = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
const LINE = `BOOT_IMAGE=/vmlinuz quiet zgrid.farm=3 zgrid.rpc=http://10.4.0.1:8545 zgrid.hub=http://10.4.0.1:8080/ zgrid.keys=${KEY} zgrid.release=${KEY}/zos.fl`;

test("parses the farm's kernel line, resolves the release on the hub, dhcp by default", () => {
  const p = parseBootParams(LINE);
  assert.equal(p.farmId, 3);
  assert.equal(p.rpcUrl, "http://10.4.0.1:8545");
  assert.equal(p.hubUrl, "http://10.4.0.1:8080");
  assert.deepEqual(p.releaseKeys, [KEY.toLowerCase()]);
  assert.equal(p.releaseUrl, `http://10.4.0.1:8080/flists/${KEY}/zos.fl`);
  assert.deepEqual(p.net, { mode: "dhcp" });
});

test("format -> parse round trip, static network and contracts", () => {
  const p = parseBootParams(`${LINE} zgrid.net=static:10.4.0.20/24,10.4.0.1,10.4.0.1 zgrid.contracts=${[KEY, KEY, KEY, KEY].join(",")}`);
  assert.deepEqual(p.net, { mode: "static", address: "10.4.0.20/24", gateway: "10.4.0.1", dns: "10.4.0.1" });
  assert.deepEqual(parseBootParams(formatBootParams(p, `${KEY}/zos.fl`)), p);
});

test("refuses what a hand-edited or hostile kernel line gets wrong, saying which word", () => {
  const bad: Array<[string, RegExp]> = [
    [LINE.replace("zgrid.farm=3", "zgrid.farm=x"), /zgrid.farm=x is not a farm id/],
    [LINE.replace(/zgrid.farm=3 /, ""), /zgrid.farm is missing/],
    [LINE.replace("http://10.4.0.1:8545", "file:///etc/passwd"), /zgrid.rpc must be an http/],
    [LINE.replace(/zgrid.keys=\S+/, "zgrid.keys="), /zgrid.keys is missing/],
    [LINE.replace(/zgrid.keys=\S+/, "zgrid.keys=0x1234"), /not an address/],
    [LINE.replace(/zgrid.release=\S+/, "zgrid.release=../../etc"), /neither <owner>\/<name>.fl/],
    [`${LINE} zgrid.farm=4`, /given twice/],
    [`${LINE} zgrid.debug=1`, /unknown boot parameter zgrid.debug/],
    [`${LINE} zgrid.net=static:10.4.0.300/24,10.4.0.1`, /not <IPv4>\/<prefix>/],
    [`${LINE} ${"x".repeat(5000)}`, /max 4096/],
  ];
  for (const [line, re] of bad) assert.throws(() => parseBootParams(line), (e: unknown) => e instanceof BootParamError && re.test(e.message), line.slice(-80));
});

test("net modes", () => {
  assert.deepEqual(parseNetMode("dhcp"), { mode: "dhcp" });
  assert.throws(() => parseNetMode("static:10.0.0.1/24"), BootParamError);
  assert.throws(() => parseNetMode("bootp"), BootParamError);
});
