// The cluster PKI made on the user's machine: the CA is a real CA, the admin certificate chains to
// it with the right identity (group system:masters, client auth only), tokens have the bootstrap
// token format and do not repeat.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { adminKubeconfig, bootstrapToken, makeClusterCa } from "./cluster-pki.ts";

test("the admin kubeconfig holds a client certificate signed by the cluster CA, in system:masters", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "k8s-pki-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await makeClusterCa("demo");
  const text = await adminKubeconfig(ca, "https://10.1.2.3:6443", "demo");
  assert.match(text, /server: https:\/\/10\.1\.2\.3:6443/);
  assert.match(text, /current-context: demo/);
  const field = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(text)![1]!, "base64").toString();
  assert.equal(field("certificate-authority-data"), ca.cert);
  writeFileSync(join(dir, "ca.crt"), ca.cert);
  writeFileSync(join(dir, "admin.crt"), field("client-certificate-data"));
  writeFileSync(join(dir, "admin.key"), field("client-key-data"));
  const verify = execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.crt"), "-purpose", "sslclient", join(dir, "admin.crt")], { encoding: "utf8" });
  assert.match(verify, /admin\.crt: OK/);
  const subject = execFileSync("openssl", ["x509", "-noout", "-subject", "-in", join(dir, "admin.crt")], { encoding: "utf8" });
  assert.match(subject, /O\s*=\s*system:masters/);
  assert.match(subject, /CN\s*=\s*zgrid-admin/);
  // valid from an hour ago (an API server whose clock trails ours must not refuse it), for a year
  const dates = execFileSync("openssl", ["x509", "-noout", "-dates", "-in", join(dir, "admin.crt")], { encoding: "utf8" });
  const notBefore = Date.parse(/notBefore=(.+)/.exec(dates)![1]!);
  const notAfter = Date.parse(/notAfter=(.+)/.exec(dates)![1]!);
  assert.ok(Date.now() - notBefore > 50 * 60_000 && Date.now() - notBefore < 70 * 60_000, `notBefore ${dates}`);
  assert.ok(Math.abs(notAfter - Date.now() - 365 * 86_400_000) < 3_600_000, `notAfter ${dates}`);
  const ext = execFileSync("openssl", ["x509", "-noout", "-ext", "keyUsage,extendedKeyUsage", "-in", join(dir, "admin.crt")], { encoding: "utf8" });
  assert.match(ext, /TLS Web Client Authentication/);
  // the key belongs to the certificate
  const pub = (args: string[]) => execFileSync("openssl", args, { encoding: "utf8" });
  assert.equal(pub(["x509", "-noout", "-pubkey", "-in", join(dir, "admin.crt")]), pub(["pkey", "-pubout", "-in", join(dir, "admin.key")]));
  // a certificate from another CA does not verify against this one
  const other = await makeClusterCa("other");
  writeFileSync(join(dir, "other.crt"), other.cert);
  assert.throws(() => execFileSync("openssl", ["verify", "-CAfile", join(dir, "other.crt"), join(dir, "admin.crt")], { stdio: "pipe" }));
});

test("bootstrap tokens have the [a-z0-9]{6}.[a-z0-9]{16} form and do not repeat", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const t = bootstrapToken();
    assert.match(t, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    seen.add(t);
  }
  assert.equal(seen.size, 500);
});
