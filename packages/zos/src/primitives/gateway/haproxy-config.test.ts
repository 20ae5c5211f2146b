// The generated HAProxy config (no HAProxy run): default ports are kept (http://ip:80 and
// https://ip:443 were once written without a port, so HTTPS went to port 80), IPv6 backends use
// HAProxy's ipv6@ form, and a route whose network namespace is gone gets no servers while every
// other route keeps its own — one broken cross-deployment reference fails one gateway only.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { renderHaproxyConfig } from "./haproxy-gateway.ts";

test("backend ports are explicit, IPv6 is ipv6@, a vanished namespace only empties its own backend", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "gwcfg-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const routes: Parameters<typeof renderHaproxyConfig>[0] = [
    ["plain", { fqdn: "a.test", backends: ["http://85.1.2.3:80", "https://85.1.2.4:443", "http://85.1.2.5"], tlsPassthrough: false }],
    ["v6", { fqdn: "b.test", backends: ["http://[2a01:4f8::5]:8080"], tlsPassthrough: false }],
    ["inner", { fqdn: "c.test", backends: ["http://10.20.2.5:80"], tlsPassthrough: false, namespace: "n-alive" }],
    ["orphan", { fqdn: "d.test", backends: ["http://10.30.2.5:80"], tlsPassthrough: false, namespace: "n-gone" }],
    ["tls", { fqdn: "e.test", backends: ["85.1.2.6:443", "[2a01:4f8::6]:443"], tlsPassthrough: true }],
  ];
  const cfg = renderHaproxyConfig(routes, { httpPort: 8080, httpsPort: 8443, namespaceExists: (ns) => ns === "n-alive" });
  // several backends: health-checked, and a failed connect is retried on another one
  assert.match(cfg, /server s0 85\.1\.2\.3:80 check inter 1s fall 2 rise 2\n/);
  assert.match(cfg, /server s1 85\.1\.2\.4:443 ssl verify none check inter 1s fall 2 rise 2\n/);
  assert.match(cfg, /server s2 85\.1\.2\.5:80 check inter 1s fall 2 rise 2\n/);
  assert.match(cfg, /backend h_plain\n {2}mode http\n {2}balance roundrobin\n {2}option redispatch\n {2}retries 3\n {2}retry-on conn-failure empty-response\n/);
  assert.doesNotMatch(cfg, /backend h_inner\n {2}mode http\n {2}balance roundrobin\n {2}option redispatch/, "one backend: no checks");
  assert.match(cfg, /server s0 ipv6@2a01:4f8::5:8080\n/);
  assert.match(cfg, /server s0 10\.20\.2\.5:80 namespace n-alive\n/);
  assert.doesNotMatch(cfg, /10\.30\.2\.5/, "the orphaned route has no server");
  assert.match(cfg, /backend h_orphan\n {2}mode http\n {2}balance roundrobin\n\n/);
  assert.match(cfg, /server s0 85\.1\.2\.6:443\n/);
  assert.match(cfg, /server s1 ipv6@2a01:4f8::6:443\n/);
  // HAProxy itself accepts the whole config (the orphan does not break the others)
  const file = join(dir, "check.cfg");
  writeFileSync(file, cfg.replace(/ namespace n-alive/g, ""));
  execFileSync("haproxy", ["-c", "-q", "-f", file]);
});
