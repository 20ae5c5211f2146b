import assert from "node:assert/strict";
import { test } from "node:test";
import { cidrContains, cidrOverlaps, cidrWithin, isIPv4, isIPv6, isLocalAddress, parseCidr, parseNetwork } from "./ip.ts";

test("strict IPv4", () => {
  for (const ok of ["0.0.0.0", "10.20.2.5", "255.255.255.255"]) assert.ok(isIPv4(ok), ok);
  for (const bad of ["010.1.1.1", "10.1", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d", ""]) assert.ok(!isIPv4(bad), bad);
  assert.ok(isIPv6("fd00::1"));
  assert.ok(!isIPv6("fd00::1%eth0"));
  assert.ok(!isIPv6("1.2.3.4"));
});

test("CIDRs and networks", () => {
  assert.deepEqual(parseCidr("10.20.0.0/16"), { kind: "ipv4", address: "10.20.0.0", prefix: 16 });
  for (const bad of ["10.20.0.0", "10.20.0.0/33", "10.20.0.0/-1", "10.20.0.0/1/2", "x/8", "10.20.0.0/ 8"]) assert.equal(parseCidr(bad), undefined, bad);
  assert.equal(parseNetwork("10.20.1.0/16"), undefined);
  assert.ok(parseNetwork("10.20.1.0/24"));
  assert.ok(parseNetwork("fd00:1::/64"));
  const net = parseNetwork("10.20.0.0/16")!;
  assert.ok(cidrContains(net, "10.20.255.1"));
  assert.ok(!cidrContains(net, "10.21.0.1"));
  assert.ok(!cidrContains(net, "fd00::1"));
  assert.ok(!cidrContains(net, "garbage"));
  assert.ok(cidrWithin(parseNetwork("10.20.3.0/24")!, net));
  assert.ok(!cidrWithin(net, parseNetwork("10.20.3.0/24")!));
  assert.ok(cidrOverlaps(net, parseNetwork("10.20.3.0/24")!));
  assert.ok(!cidrOverlaps(parseNetwork("10.20.2.0/24")!, parseNetwork("10.20.3.0/24")!));
});

test("local addresses", () => {
  for (const l of ["127.0.0.1", "127.9.9.9", "::1", "0.0.0.0", "169.254.1.1", "fe80::1"]) assert.ok(isLocalAddress(l), l);
  for (const p of ["10.0.0.1", "203.0.113.7", "2001:db8::1"]) assert.ok(!isLocalAddress(p), p);
});
