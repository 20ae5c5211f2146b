/**
 * A valid sample deployment (a network, a disk, a public IP, a VM, its logs, a zdb and two
 * gateways) for tests in every package. Returns plain JSON, as it would arrive over the wire.
 *
 * @example
 * ```ts
 * const d = parseDeployment(sampleDeploymentJson({ twinId: 7 }));
 * ```
 */
export const SAMPLE_WG_KEY = "cGxhY2Vob2xkZXIta2V5LW9mLTMyLWJ5dGVzLWxvbmchIT0=".slice(0, 43) + "=";

export function sampleDeploymentJson(opts: { twinId?: number; version?: number } = {}): Record<string, unknown> {
  const twin = opts.twinId ?? 7;
  const GiB = 1024 ** 3;
  return {
    version: opts.version ?? 0,
    twin_id: twin,
    contract_id: 0,
    metadata: "{\"type\":\"vm\",\"name\":\"web\"}",
    description: "sample deployment",
    expiration: 0,
    signature_requirement: {
      requests: [{ twin_id: twin, required: false, weight: 1 }],
      weight_required: 1,
      signatures: [],
      signature_style: "",
    },
    workloads: [
      {
        version: 0, name: "net", type: "network", metadata: "", description: "",
        data: {
          ip_range: "10.20.0.0/16", subnet: "10.20.2.0/24", wireguard_private_key: SAMPLE_WG_KEY, wireguard_listen_port: 6000,
          peers: [{ subnet: "10.20.3.0/24", wireguard_public_key: SAMPLE_WG_KEY, allowed_ips: ["10.20.3.0/24", "100.64.20.3/32"], endpoint: "192.0.2.10:6000" }],
        },
      },
      { version: 0, name: "data", type: "zmount", metadata: "", description: "", data: { size: 10 * GiB } },
      { version: 0, name: "pub", type: "ip", metadata: "", description: "", data: { v4: true, v6: false } },
      {
        version: 0, name: "vm", type: "zmachine", metadata: "", description: "web server",
        data: {
          flist: "https://hub.grid.tf/tf-official-apps/base:latest.fl",
          network: { public_ip: "pub", planetary: false, interfaces: [{ network: "net", ip: "10.20.2.5" }] },
          size: 2 * GiB,
          compute_capacity: { cpu: 2, memory: 2 * GiB },
          mounts: [{ name: "data", mountpoint: "/data" }],
          entrypoint: "/sbin/zinit init",
          env: { SSH_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests user@host" },
          corex: false,
          gpu: [],
        },
      },
      { version: 0, name: "logs", type: "zlogs", metadata: "", description: "", data: { zmachine: "vm", output: "ws://10.20.2.9:8080/logs" } },
      { version: 0, name: "db", type: "zdb", metadata: "", description: "", data: { size: 5 * GiB, mode: "user", password: "s3cret", public: false } },
      { version: 0, name: "gw", type: "gateway-name-proxy", metadata: "", description: "", data: { name: "web", tls_passthrough: false, backends: ["http://10.20.2.5:80"], network: "net" } },
      { version: 0, name: "gwf", type: "gateway-fqdn-proxy", metadata: "", description: "", data: { fqdn: "app.example.com", tls_passthrough: true, backends: ["203.0.113.7:443"] } },
    ],
  };
}
