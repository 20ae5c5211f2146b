import assert from "node:assert/strict";
import { test } from "node:test";
import { vmModelSchema } from "../models/vm-model.ts";
import { hostsLine, withHosts } from "./compose-hosts.ts";
import type { Spec } from "./spec-file.ts";

const spec = (serviceNames?: Spec["serviceNames"]): Spec => ({ file: "c.yml", project: "shop", networks: [], vms: [], gateways: [], zdbs: [], ...(serviceNames ? { serviceNames } : {}) });
const known = [
  { name: "db", ip: "10.20.2.2", network: "shop_default" },
  { name: "my_api", ip: "10.20.2.3", network: "shop_default" },
  { name: "other", ip: "10.30.2.2", network: "shop_back" },
  { name: "evil", ip: "10.20.2.9; rm -rf /", network: "shop_default" },
];

test("each VM gets the names of the others on its network (not itself, not other networks, no bad address)", () => {
  const s = spec({ db: [], my_api: ["my-api"] });
  assert.equal(hostsLine(known, s, "web", "shop_default"), "10.20.2.2 db;10.20.2.3 my_api my-api");
  assert.equal(hostsLine(known, s, "db", "shop_default"), "10.20.2.3 my_api my-api");
  const vm = vmModelSchema.parse({ name: "web", flist: "http://hub/x.fl", network: "shop_default", env: { A: "1" } });
  assert.deepEqual(withHosts(vm, s, known).env, { A: "1", ZGRID_HOSTS: "10.20.2.2 db;10.20.2.3 my_api my-api" });
  assert.equal(withHosts(vm, spec(), known), vm, "not a compose spec: unchanged");
});
