/**
 * The cluster's trust root, made on the user's machine with openssl: a CA (RSA 2048, 10 years)
 * whose certificate every node gets (env ZK8S_CA_CERT) and whose key only the master gets
 * (ZK8S_CA_KEY; kubeadm signs the API server's and the components' certificates with it in the VM).
 * Because the user holds the CA, the admin kubeconfig is made here too: no SSH, nothing fetched
 * from the VM. A bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}) lets workers join (kubelet TLS bootstrap).
 *
 * @example
 * ```ts
 * const ca = await makeClusterCa("demo");
 * const kubeconfig = await adminKubeconfig(ca, "https://185.69.0.10:6443", "demo");
 * const token = bootstrapToken();
 * ```
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { K8sPkiError } from "./errors.ts";

const run = promisify(execFile);

export interface ClusterCa {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run("openssl", args, { cwd, timeout: 60_000 });
  } catch (e) {
    throw new K8sPkiError(`openssl ${args[0]} failed: ${(e as Error).message.split("\n")[0]}`, { hint: "install openssl (packages/k8s/apt-packages.txt)" });
  }
}

async function inTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "zgrid-k8s-pki-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function makeClusterCa(cluster: string): Promise<ClusterCa> {
  return inTemp(async (dir) => {
    await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
      "-subj", `/CN=zgrid-k8s-ca-${cluster}`, "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign"], dir);
    return { cert: await readFile(join(dir, "ca.crt"), "utf8"), key: await readFile(join(dir, "ca.key"), "utf8") };
  });
}

/** A client certificate in group system:masters, signed by the cluster CA, as a kubeconfig. */
export function adminKubeconfig(ca: ClusterCa, server: string, cluster: string, days = 365): Promise<string> {
  return inTemp(async (dir) => {
    await writeFile(join(dir, "ca.crt"), ca.cert);
    await writeFile(join(dir, "ca.key"), ca.key, { mode: 0o600 });
    // `openssl ca`, not `x509 -req`: only it sets notBefore. A certificate valid from "now" was
    // refused (401) by an API server whose clock trailed the host's by 0.4 s (TCG VM; 1+2 e2e,
    // session 9): it is back-dated by an hour, as CAs do for clock skew.
    await writeFile(join(dir, "ca.cnf"), [
      "[ca]", "default_ca = zca", "[zca]", "database = index.txt", "new_certs_dir = .", "serial = serial", "default_md = sha256",
      "policy = any", "unique_subject = no", "x509_extensions = ext", "[any]", "organizationName = optional", "commonName = supplied",
      "[ext]", "keyUsage = critical,digitalSignature,keyEncipherment", "extendedKeyUsage = clientAuth", "",
    ].join("\n"));
    await writeFile(join(dir, "index.txt"), "");
    await writeFile(join(dir, "serial"), `${randomBytes(16).toString("hex").replace(/^./, "1")}\n`);
    await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "admin.key", "-out", "admin.csr", "-subj", "/O=system:masters/CN=zgrid-admin"], dir);
    const now = Date.now();
    await openssl(["ca", "-batch", "-notext", "-preserveDN", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "admin.csr", "-out", "admin.crt",
      "-startdate", asn1Time(now - 3_600_000), "-enddate", asn1Time(now + days * 86_400_000)], dir);
    const b64 = async (f: string) => Buffer.from(await readFile(join(dir, f))).toString("base64");
    return kubeconfigYaml({ cluster, server, caData: Buffer.from(ca.cert).toString("base64"), certData: await b64("admin.crt"), keyData: await b64("admin.key") });
  });
}

/** `YYYYMMDDHHMMSSZ` (GeneralizedTime, as `openssl ca -startdate` takes it). */
function asn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

export function kubeconfigYaml(o: { cluster: string; server: string; caData: string; certData: string; keyData: string }): string {
  return [
    "apiVersion: v1", "kind: Config",
    "clusters:", `- name: ${o.cluster}`, "  cluster:", `    server: ${o.server}`, `    certificate-authority-data: ${o.caData}`,
    "users:", `- name: ${o.cluster}-admin`, "  user:", `    client-certificate-data: ${o.certData}`, `    client-key-data: ${o.keyData}`,
    "contexts:", `- name: ${o.cluster}`, "  context:", `    cluster: ${o.cluster}`, `    user: ${o.cluster}-admin`,
    `current-context: ${o.cluster}`, "",
  ].join("\n");
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** A bootstrap token, [a-z0-9]{6}.[a-z0-9]{16}, from the OS's CSPRNG (rejection sampling: unbiased). */
export function bootstrapToken(): string {
  const pick = (n: number) => {
    let s = "";
    while (s.length < n) for (const b of randomBytes(32)) if (b < 252 && s.length < n) s += ALPHABET[b % 36];
    return s;
  };
  return `${pick(6)}.${pick(16)}`;
}
