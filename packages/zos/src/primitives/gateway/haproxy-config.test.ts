// The generated HAProxy config (no HAProxy run): default ports are kept (http://ip:80 and
// https://ip:443 were once written without a port, so HTTPS went to port 80), IPv6 backends use
// HAProxy's ipv6@ form, and a route whose network namespace is gone gets no servers while every
// other route keeps its own — one broken cross-deployment reference fails one gateway only. Every
// route has server slots (free ones disabled placeholders, so backends can change at runtime),
// and the config's shape leaves out exactly what the runtime API changes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { renderHaproxyConfig } from "./haproxy-config.ts";

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
  // free slots: disabled placeholders (3 backends: 6 slots; one backend: 4)
  assert.match(cfg, /server s5 0\.0\.0\.0:1 disabled check inter 1s fall 2 rise 2\n/);
  assert.doesNotMatch(cfg, /server s6 /);
  assert.match(cfg, /server s0 ipv6@2a01:4f8::5:8080 check/);
  assert.match(cfg, /server s0 10\.20\.2\.5:80 namespace n-alive check/);
  assert.match(cfg, /server s3 0\.0\.0\.0:1 namespace n-alive disabled check/);
  assert.doesNotMatch(cfg, /10\.30\.2\.5/, "the orphaned route has no server");
  assert.match(cfg, /backend h_orphan\n {2}mode http\n {2}balance roundrobin\n\n/);
  assert.match(cfg, /server s0 85\.1\.2\.6:443 check/);
  assert.match(cfg, /server s1 ipv6@2a01:4f8::6:443 check/);
  // the shape: the same config except slot addresses and `disabled`
  const shape = renderHaproxyConfig(routes, { httpPort: 8080, httpsPort: 8443, namespaceExists: (ns) => ns === "n-alive", shape: true });
  const moved = routes.map(([id, r]): (typeof routes)[number] => [id, id === "plain" ? { ...r, slots: [{ backend: null, ssl: false }, { backend: "https://85.1.2.4:443", ssl: true }, { backend: "http://85.1.2.5", ssl: false }, { backend: "http://85.1.2.9:80", ssl: false }, { backend: null, ssl: false }, { backend: null, ssl: false }] } : r]);
  assert.equal(renderHaproxyConfig(moved, { httpPort: 8080, httpsPort: 8443, namespaceExists: (ns) => ns === "n-alive", shape: true }), shape, "backends moved between slots: same shape");
  assert.notEqual(renderHaproxyConfig(moved, { httpPort: 8080, httpsPort: 8443, namespaceExists: (ns) => ns === "n-alive" }), cfg);
  assert.match(shape, /server s0 - check/);
  // a namespace made again under the same name (a network cancelled and deployed again) changes the shape: HAProxy reloads into it
  const at = (ino: string) => renderHaproxyConfig(routes, { httpPort: 8080, httpsPort: 8443, namespaceExists: (ns) => ns === "n-alive", shape: true, namespaceId: () => ino });
  assert.equal(at("41"), at("41"));
  assert.notEqual(at("41"), at("42"));
  assert.match(at("41"), /backend h_inner\n {2}mode http\n {2}balance roundrobin\n {2}# netns n-alive 41\n/);
  assert.doesNotMatch(at("41"), /# netns n-gone/, "a gone namespace has no servers anyway");
  // HAProxy itself accepts the whole config (the orphan does not break the others)
  const file = join(dir, "check.cfg");
  writeFileSync(file, cfg.replace(/ namespace n-alive/g, ""));
  execFileSync("haproxy", ["-c", "-q", "-f", file]);
});
