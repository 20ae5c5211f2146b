import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fqdnProofRecord, localDnsZone } from "@zgrid/client";
import { startLocalDns } from "./local-dns.ts";

test("the local DNS server answers what the zone publishes (TXT, A, wildcard), NXDOMAIN otherwise, and follows zone changes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-dns-"));
  const zone = localDnsZone(dir);
  const dns = await startLocalDns({ host: "127.0.0.1", zoneFile: zone.path, ports: [0], wildcards: [{ suffix: "gw.local.zgrid.test", address: "10.9.0.11" }] });
  t.after(async () => {
    await dns.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([dns.server]);
  const code = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code);

  assert.equal(await code(r.resolveTxt("_zgrid.shop.example.org")), "ENOTFOUND", "nothing published yet");
  zone.add(fqdnProofRecord("Shop.Example.org", 4));
  assert.deepEqual(await r.resolveTxt("_zgrid.shop.example.org"), [["zgrid-twin=4"]]);
  zone.add({ name: "_zgrid.shop.example.org", type: "TXT", value: "v=spf1 -all" });
  zone.add(fqdnProofRecord("shop.example.org", 4)); // kept once
  assert.deepEqual((await r.resolveTxt("_zgrid.SHOP.example.org")).map((x) => x.join("")).sort(), ["v=spf1 -all", "zgrid-twin=4"]);
  assert.equal(await code(r.resolve4("_zgrid.shop.example.org")), "ENODATA", "the name exists, no A record");
  zone.add({ name: "www.example.org", type: "A", value: "10.9.0.20" });
  assert.deepEqual(await r.resolve4("www.example.org"), ["10.9.0.20"]);
  assert.deepEqual(await r.resolve4("blog.gw.local.zgrid.test"), ["10.9.0.11"]);
  assert.equal(await code(r.resolve4("gw.local.zgrid.test.evil.org")), "ENOTFOUND");

  assert.equal(zone.remove("_zgrid.shop.example.org", { type: "TXT", value: "zgrid-twin=4" }), 1);
  assert.deepEqual(await r.resolveTxt("_zgrid.shop.example.org"), [["v=spf1 -all"]]);
  // a broken zone file: the server keeps serving the last good zone; the SDK says what is wrong
  writeFileSync(zone.path, "{ not json");
  assert.deepEqual(await r.resolveTxt("_zgrid.shop.example.org"), [["v=spf1 -all"]]);
  assert.throws(() => zone.list(), /zone\.json: not JSON/);
  writeFileSync(zone.path, JSON.stringify({ records: [] }));
  assert.equal(await code(r.resolveTxt("_zgrid.shop.example.org")), "ENOTFOUND");
});

test("the local DNS zone refuses bad records with a clear error", () => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-dns-"));
  try {
    const zone = localDnsZone(dir);
    assert.throws(() => zone.add({ name: "nodots", type: "TXT", value: "x" }), /not a domain name/);
    assert.throws(() => zone.add({ name: "a..example.org", type: "TXT", value: "x" }), /not a domain name/);
    assert.throws(() => zone.add({ name: `${"a".repeat(64)}.org`, type: "TXT", value: "x" }), /not a domain name/);
    assert.throws(() => zone.add({ name: "x.example.org", type: "TXT", value: "y".repeat(256) }), /value/);
    assert.throws(() => zone.add({ name: "x.example.org", type: "TXT", value: "new\nline" }), /printable ASCII/);
    assert.throws(() => zone.add({ name: "x.example.org", type: "A", value: "::1" }), /not an IPv4 address/);
    assert.deepEqual(zone.list(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
