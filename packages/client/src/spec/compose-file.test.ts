// A compose file as a zgrid spec, without a grid: every supported key mapped, unsupported ones
// listed in warnings (never dropped silently), errors naming the service and key.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputError } from "../errors/client-errors.ts";
import { isComposeFile, loadCompose } from "./compose-file.ts";
import { interpolate, parseEnvFile } from "./compose-env.ts";

const dir = mkdtempSync(join(tmpdir(), "zgrid-compose-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const FLISTS = { busybox: "http://hub/flists/0xabc/busybox.fl" };

function compose(text: string, name = "docker-compose.yml"): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const SHOP = `
name: shop
services:
  web:
    image: busybox
    ports: ["8080:80"]
    depends_on: [app]
    environment: { UPSTREAM: "http://app:8000" }
    privileged: true
  app:
    image: registry.example:5000/shop/app:1.2
    command: ["python3", "server.py", "--port", "8000"]
    entrypoint: /usr/bin/env
    working_dir: /app
    user: "1000:1000"
    env_file: app.env
    environment:
      - MODE=\${MODE:-prod}
      - FROM_SHELL
    restart: on-failure:3
    depends_on:
      db: { condition: service_healthy }
    deploy:
      replicas: 2
      resources: { limits: { cpus: "0.5", memory: 512M } }
  db:
    image: busybox
    command: sh -c 'exec httpd -f -p 5432'
    volumes: ["dbdata:/var/lib/db", "./conf:/etc/db"]
    healthcheck:
      test: ["CMD-SHELL", "nc -z 127.0.0.1 5432"]
      interval: 2s
      timeout: 1m30s
      retries: 5
    stop_signal: SIGINT
    networks: [back]
networks:
  back: { ipam: { config: [{ subnet: 10.77.0.0/16 }] } }
volumes:
  dbdata: { x-zgrid: { size: 2G } }
`;

test("services → VMs with image, command, entrypoint, env, workdir, user, restart, healthcheck, resources, replicas; depends_on orders them", async () => {
  writeFileSync(join(dir, "app.env"), "# app settings\nSECRET='s3 cret'\nMODE=file\n");
  const resolved: string[] = [];
  const c = await loadCompose(compose(SHOP), { flists: FLISTS, env: { FROM_SHELL: "yes" }, resolveImage: async (ref) => (resolved.push(ref), `http://hub/flists/0xhub/${ref.replace(/\W/g, "-")}.fl`) });
  assert.deepEqual(resolved, ["registry.example:5000/shop/app:1.2"], "each image converted once (two replicas)");
  assert.equal(c.spec.project, "shop");
  assert.deepEqual(c.spec.vms.map((v) => v.name), ["db", "app_1", "app_2", "web"]);
  const [db, app] = c.spec.vms;
  assert.deepEqual(app!.entrypoint, ["/usr/bin/env"]);
  assert.deepEqual(app!.cmd, ["python3", "server.py", "--port", "8000"]);
  assert.equal(app!.workdir, "/app");
  assert.equal(app!.user, "1000:1000");
  assert.equal(app!.restart, "on-failure:3");
  assert.deepEqual(app!.env, { SECRET: "s3 cret", MODE: "prod", FROM_SHELL: "yes" }, "environment wins over env_file; ${MODE:-prod} with MODE unset");
  assert.equal(app!.cpu, 1);
  assert.equal(app!.memory, 512);
  assert.equal(app!.flist, "http://hub/flists/0xhub/registry-example-5000-shop-app-1-2.fl");
  assert.deepEqual(db!.cmd, ["sh", "-c", "exec httpd -f -p 5432"]);
  assert.deepEqual(db!.disks, [{ name: "dbdata", size: 2048, mountpoint: "/var/lib/db" }]);
  assert.deepEqual(db!.healthcheck, { test: ["CMD-SHELL", "nc -z 127.0.0.1 5432"], interval: 2, timeout: 90, retries: 5, start_period: 0 });
  assert.equal(db!.stop_signal, "SIGINT");
  assert.equal(db!.network, "shop_back");
  assert.equal(app!.network, "shop_default");
  assert.deepEqual(c.spec.networks, [{ name: "shop_back", ip_range: "10.77.0.0/16" }, { name: "shop_default" }]);
  assert.deepEqual(c.spec.gateways, [{ name: "shop-web", vm: "web", port: 80 }]);
  const w = c.warnings.join("\n");
  assert.match(w, /services\.web\.privileged: not supported by zgrid, ignored/);
  assert.match(w, /services\.db\.volumes\.1: a bind mount \(\.\/conf:\/etc\/db\) cannot come from this machine/);
  assert.match(w, /services\.app\.deploy\.resources: 0\.5 CPUs rounded up to 1/);
  assert.match(w, /ports\.0: published as gateway 'shop-web' on HTTP port 80, not 8080/);
});

test("ports with a public IP: the VM's own address, no gateway; udp warned", async () => {
  const c = await loadCompose(compose(`services:\n  web:\n    image: busybox\n    ports: ["80:80", "53:53/udp"]\n    x-zgrid: { public_ip: true, node: 2 }\n`, "pub-compose.yml"), { flists: FLISTS, project: "pub" });
  assert.equal(c.spec.vms[0]!.public_ip, true);
  assert.equal(c.spec.vms[0]!.node, 2);
  assert.deepEqual(c.spec.gateways, []);
  assert.match(c.warnings.join("\n"), /udp is not forwarded/);
});

test("refusals name the service and key: no image, two networks, cycle, unknown dependency, shared volume, bad restart, bad duration", async () => {
  const cases: Array<[string, RegExp]> = [
    ["services:\n  a:\n    build: .\n", /services\.a: no image/],
    ["services:\n  a:\n    image: busybox\n    networks: [x, y]\nnetworks: { x: {}, y: {} }\n", /joins 2 networks/],
    ["services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n", /cycle: a → b → a/],
    ["services:\n  a:\n    image: busybox\n    depends_on: [nope]\n", /depends on 'nope', which is not defined/],
    ["services:\n  a:\n    image: busybox\n    volumes: [v:/d]\n  b:\n    image: busybox\n    volumes: [v:/d]\nvolumes: { v: {} }\n", /volume 'v' is used by 'a' too/],
    ["services:\n  a:\n    image: busybox\n    restart: sometimes\n", /restart: 'sometimes'/],
    ["services:\n  a:\n    image: busybox\n    healthcheck: { test: [CMD, x], interval: soon }\n", /'soon' is not a duration/],
    ["services:\n  a:\n    image: busybox\n    command: a && b\n", /cmd: .*shell operator '&&'/],
    ["services:\n  a:\n    image: nginx:1\n", /not a flist the grid knows/],
  ];
  for (const [text, re] of cases) {
    await assert.rejects(loadCompose(compose(text, "bad-compose.yml"), { flists: FLISTS, project: "p" }), (e: unknown) => e instanceof InputError && re.test(e.message), text);
  }
});

test("compose files are told from zgrid specs", () => {
  assert.ok(isComposeFile("/x/docker-compose.yml") && isComposeFile("compose.yaml") && isComposeFile("compose.prod.yml"));
  assert.ok(isComposeFile("stack.yml", "services:\n  a: {}\n"));
  assert.ok(!isComposeFile("shop.yaml", "project: shop\nvms: []\n"));
});

test("interpolation and env files as docker compose reads them", () => {
  assert.equal(interpolate("$$HOME ${A} $A ${B:-def} ${B-x} ${E:-e}", { A: "1", E: "" }), "$HOME 1 1 def x e");
  assert.throws(() => interpolate("${NEED:?set it}", {}, "services.a"), /variable NEED is required: set it/);
  assert.deepEqual(parseEnvFile('A=1\nexport B="x\\ny"\nC=v # c\n\n'), { A: "1", B: "x\ny", C: "v" });
  assert.throws(() => parseEnvFile("oops\n", "app.env"), /app\.env:1: not KEY=VALUE/);
});

test("depends_on conditions become waits per VM (every replica); a bad condition is refused; restart: true is warned about", async () => {
  const c = await loadCompose(compose(`
services:
  web: { image: busybox, depends_on: [app] }
  app:
    image: busybox
    depends_on:
      db: { condition: service_healthy, restart: true }
      migrate: { condition: service_completed_successfully }
  migrate: { image: busybox, depends_on: { db: { condition: service_started } } }
  db: { image: busybox, deploy: { replicas: 2 } }
`, "deps-compose.yml"), { flists: FLISTS, env: {} });
  assert.deepEqual(c.spec.vms.map((v) => v.name), ["db_1", "db_2", "migrate", "app", "web"]);
  assert.deepEqual(c.spec.depends, {
    web: [{ vm: "app", condition: "service_started" }],
    app: [{ vm: "db_1", condition: "service_healthy" }, { vm: "db_2", condition: "service_healthy" }, { vm: "migrate", condition: "service_completed_successfully" }],
    migrate: [{ vm: "db_1", condition: "service_started" }, { vm: "db_2", condition: "service_started" }],
  });
  assert.ok(c.warnings.some((w) => /services\.app\.depends_on\.db\.restart: not supported/.test(w)), c.warnings.join("\n"));
  await assert.rejects(loadCompose(compose(`
services:
  app: { image: busybox, depends_on: { db: { condition: service_ready } } }
  db: { image: busybox }
`, "deps2-compose.yml"), { flists: FLISTS, env: {} }), /services\.app\.depends_on.*'service_ready' is not one of service_started, service_healthy, service_completed_successfully/);
});
