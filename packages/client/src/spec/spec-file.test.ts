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
