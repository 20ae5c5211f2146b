import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SpecError } from "../errors/client-errors.ts";
import { loadSpec, parseSpec } from "./spec-file.ts";

const flists = { busybox: "http://hub.local/flists/0xabc/busybox.fl" };

function specError(text: string): SpecError {
  try {
    parseSpec(text, "spec.yaml", { flists });
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e;
  }
  throw new Error("accepted");
}

test("a good spec: defaults filled, flist names resolved", () => {
  const s = parseSpec("project: shop\nnetworks:\n  - name: net\n    ip_range: 10.60.0.0/16\nvms:\n  - name: web\n    node: 2\n    network: net\n    flist: busybox\n    disks: [{ name: data, size: 64, mountpoint: /data }]\n", "spec.yaml", { flists });
  assert.equal(s.project, "shop");
  assert.deepEqual(s.networks, [{ name: "net", ip_range: "10.60.0.0/16" }]);
  const vm = s.vms[0]!;
  assert.equal(vm.flist, flists.busybox);
  assert.equal(vm.cpu, 1);
  assert.equal(vm.memory, 256);
  assert.equal(vm.node, 2);
  assert.deepEqual(vm.disks, [{ name: "data", size: 64, mountpoint: "/data" }]);
});

test("errors name file, line and field", () => {
  const e = specError("project: p\nnetworks:\n  - name: net\nvms:\n  - name: a\n    network: net\n    flist: busybox\n    cpu: zero\n");
  assert.match(e.message, /^spec\.yaml:8: vms\.0\.cpu: /);
  assert.equal(e.details.line, 8);
  assert.equal(e.details.field, "vms.0.cpu");
  assert.match(specError("project: p\nvms:\n  - name: a\n    network: other\n    flist: busybox\n").message, /^spec\.yaml:4: vms\.0\.network: network 'other' is not declared/);
  assert.match(specError("project: p\nnetworks: [{ name: n }]\nvms:\n  - name: a\n    network: n\n    flist: ubuntu\n").message, /^spec\.yaml:6: vms\.0\.flist: 'ubuntu' is neither an URL nor a known flist \(busybox\)/);
  assert.match(specError("project: p\nnetworks: [{ name: n }]\nvms:\n  - { name: a, network: n, flist: busybox }\n  - { name: a, network: n, flist: busybox }\n").message, /^spec\.yaml:5: vms\.1\.name: VM name 'a' is used twice/);
  assert.match(specError("project: p\nvms:\n  - name: a\n    bogus: 1\n    flist: busybox\n").message, /^spec\.yaml:3: vms\.0: .*bogus/);
  assert.match(specError("project: p\nvms: [\n").message, /^spec\.yaml:\d+: YAML: /);
  assert.match(specError("project: p\nnetworks:\n  - name: n\n    ip_range: 10.1.2.0/24\n").message, /^spec\.yaml:4: networks\.0\.ip_range: a \/16/);
});

test("a missing file says so", () => {
  const dir = mkdtempSync(join(tmpdir(), "zgrid-spec-"));
  try {
    assert.throws(() => loadSpec(join(dir, "nope.yaml")), (e: unknown) => e instanceof SpecError && /nope\.yaml: cannot read/.test(e.message));
    writeFileSync(join(dir, "ok.yaml"), "project: p\n");
    assert.deepEqual(loadSpec(join(dir, "ok.yaml")).vms, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("gateways: compose-like ports on VMs and a gateways section", () => {
  const s = parseSpec([
    "project: p", "networks: [{ name: n }]", "vms:",
    "  - name: web", "    network: n", "    flist: busybox", '    ports: ["shop:80", "app.example.org:443/tls", { name: api, port: 8080, fqdn: api.example.org }]',
    "gateways:", "  - name: blog", "    fqdn: blog.example.org", "    backends: [http://185.69.0.20:80]", "  - name: raw", "    backends: [185.69.0.21:443]", "    tls_passthrough: true", "    node: 3", "",
  ].join("\n"), "spec.yaml", { flists });
  assert.deepEqual(s.gateways, [
    { name: "shop", vm: "web", port: 80 },
    { name: "app-example-org", vm: "web", port: 443, fqdn: "app.example.org", tlsPassthrough: true },
    { name: "api", vm: "web", port: 8080, fqdn: "api.example.org" },
    { name: "blog", backends: ["http://185.69.0.20:80"], fqdn: "blog.example.org" },
    { name: "raw", backends: ["185.69.0.21:443"], tlsPassthrough: true, node: 3 },
  ]);
  assert.equal("ports" in s.vms[0]!, false, "ports are not part of the VM model (changing them does not replace the VM)");
});

test("gateway errors name file, line and field", () => {
  const base = "project: p\nnetworks: [{ name: n }]\nvms:\n  - name: web\n    network: n\n    flist: busybox\n";
  assert.match(specError(`${base}    ports: ["shop"]\n`).message, /^spec\.yaml:7: vms\.0\.ports\.0: .*NAME:PORT/);
  assert.match(specError(`${base}    ports: ["shop:80", "shop:81"]\n`).message, /^spec\.yaml:7: vms\.0\.ports\.1: gateway name 'shop' is used twice/);
  assert.match(specError(`${base}gateways:\n  - name: gw1\n    vm: nope\n`).message, /^spec\.yaml:8: gateways\.0: VM 'nope' is not declared/);
  assert.match(specError(`${base}gateways:\n  - name: gw1\n    backends: [http://127.0.0.1:80]\n`).message, /^spec\.yaml:8: gateways\.0: gateway 'gw1': backends\.0 .*not loopback/);
  assert.match(specError(`${base}gateways:\n  - name: gw1\n    vm: web\n    backends: [http://1.2.3.4:80]\n`).message, /either a VM or backends/);
  assert.match(specError(`${base}gateways:\n  - name: gw1\n    backends: [http://1.2.3.4:80]\n    fqdn: nodots\n`).message, /'nodots' is not a domain name/);
  assert.match(specError(`${base}gateways:\n  - name: gw1\n    backends: [http://1.2.3.4:80]\n    tls_passthrough: true\n`).message, /IP:port \(TLS passthrough\)/);
});

test("zdbs in a spec: sizes parsed, defaults filled, mistakes named by line", () => {
  const s = parseSpec("project: shop\nzdbs:\n  - name: store\n    size: 1G\n    mode: seq\n    password: s3cret\n  - name: cache\n    node: 2\n    size: 2097152\n", "spec.yaml", { flists });
  assert.deepEqual(s.zdbs, [
    { name: "store", size: 1024 ** 3, mode: "seq", password: "s3cret", public: false },
    { name: "cache", node: 2, size: 2097152, mode: "user", password: "", public: false },
  ]);
  assert.match(specError("project: shop\nzdbs:\n  - name: store\n    size: lots\n").message, /spec.yaml:4: zdbs.0.size: a size like 512M/);
  assert.match(specError("project: shop\nzdbs:\n  - name: store\n    size: 1G\n    mode: fast\n").message, /zdbs.0.mode/);
  assert.match(specError("project: shop\nzdbs:\n  - { name: a, size: 1G }\n  - { name: a, size: 1G }\n").message, /used twice/);
});

test("sections another package defines (extensions): checked with their schema, errors with line and field; unknown ones still refused", async () => {
  const { z } = await import("zod");
  const extensions = { clusters: z.array(z.strictObject({ name: z.string().regex(/^[a-z]+$/), workers: z.number().int().min(0).default(1) })) };
  const s = parseSpec("project: shop\nclusters:\n  - name: demo\n    workers: 2\n", "spec.yaml", { flists, extensions });
  assert.deepEqual(s.extensions, { clusters: [{ name: "demo", workers: 2 }] });
  assert.equal(parseSpec("project: shop\n", "spec.yaml", { flists, extensions }).extensions, undefined, "an absent section is not there");
  try {
    parseSpec("project: shop\nclusters:\n  - name: demo\n    workers: -1\n", "spec.yaml", { flists, extensions });
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof SpecError);
    assert.match(e.message, /^spec\.yaml:4: clusters\.0\.workers: /);
  }
  // without the extension the section is unknown
  assert.match(specError("project: shop\nclusters:\n  - name: demo\n").message, /clusters/);
  assert.throws(() => parseSpec("project: shop\n", "spec.yaml", { extensions: { vms: z.array(z.string()) } }), /would replace a section/);
});
