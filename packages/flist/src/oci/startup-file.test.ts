import assert from "node:assert/strict";
import { test } from "node:test";
import { startupFromConfig } from "./startup-file.ts";

test("the image config's User, StopSignal, ExposedPorts and Healthcheck (Docker's ns durations) are recorded", () => {
  const s = startupFromConfig({ config: {
    Entrypoint: ["python3"], Cmd: ["server.py"], WorkingDir: "/app", User: "app:app", StopSignal: "SIGQUIT", ExposedPorts: { "8000/tcp": {} },
    Healthcheck: { Test: ["CMD-SHELL", "wget -q -O- localhost:8000"], Interval: 5e9, Timeout: 2e9, Retries: 2 },
  } });
  assert.deepEqual(s, {
    name: "python3", args: ["server.py"], env: {}, dir: "/app", entrypoint: ["python3"], cmd: ["server.py"], user: "app:app", stopSignal: "SIGQUIT",
    exposedPorts: ["8000/tcp"], healthcheck: { test: ["CMD-SHELL", "wget -q -O- localhost:8000"], intervalSec: 5, timeoutSec: 2, retries: 2, startPeriodSec: 0 },
  });
});
