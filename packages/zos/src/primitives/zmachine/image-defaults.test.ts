import assert from "node:assert/strict";
import { test } from "node:test";
import type { Startup } from "@zgrid/flist";
import { resolveArgv } from "@zgrid/types";
import { imageDefaults } from "./image-defaults.ts";

test("an flist of before issue 15 gives its joined argv and dir", () => {
  const d = imageDefaults({ name: "/start.sh", args: ["-x"], env: {}, dir: "/srv" });
  assert.deepEqual(d, { argv: ["/start.sh", "-x"], dir: "/srv" });
  assert.deepEqual(resolveArgv({ entrypoint: "" }, d), ["/start.sh", "-x"]);
});

test("Entrypoint and Cmd apart: cmd alone replaces the image's Cmd", () => {
  const d = imageDefaults({ name: "python3", args: ["app.py"], env: {}, dir: "/app", entrypoint: [], cmd: ["python3", "app.py"], user: "app", stopSignal: "SIGQUIT" });
  assert.deepEqual(resolveArgv({ entrypoint: "", cmd: ["python3", "other.py"] }, d), ["python3", "other.py"]);
  assert.equal(d.user, "app");
  assert.equal(d.stopSignal, "SIGQUIT");
});

test("values of the wrong shape are ignored, never used", () => {
  const bad = { name: 5, args: "x", env: {}, dir: "relative", entrypoint: ["a\0b"], cmd: [], user: "a b", stopSignal: "$(x)" } as unknown as Startup;
  assert.deepEqual(imageDefaults(bad), {});
  assert.deepEqual(imageDefaults(undefined), {});
});

test("the image's HEALTHCHECK is a default of the VM (convert records it in the startup); a malformed one is ignored", () => {
  const healthcheck = { test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/"], intervalSec: 1, timeoutSec: 3, retries: 3, startPeriodSec: 0 };
  assert.deepEqual(imageDefaults({ name: "app", args: [], env: {}, dir: "/", healthcheck }).healthcheck, healthcheck);
  for (const bad of [{ ...healthcheck, test: "true" }, { ...healthcheck, intervalSec: -1 }, { ...healthcheck, retries: "3" }, { ...healthcheck, test: [] }, "x"]) {
    assert.equal(imageDefaults({ name: "app", args: [], env: {}, dir: "/", healthcheck: bad } as unknown as Startup).healthcheck, undefined, JSON.stringify(bad));
  }
});
