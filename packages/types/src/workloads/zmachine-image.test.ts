import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../errors/validation-error.ts";
import { deploymentHashHex } from "../deployment/hash-deployment.ts";
import { parseDeployment } from "../deployment/parse-deployment.ts";
import { sampleDeploymentJson } from "../testing/sample-deployment.ts";
import { entrypointArgv, parseRestart, resolveArgv, signalNumber } from "./zmachine-image.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const vm = (d: Json) => d.workloads.find((w: Json) => w.name === "vm").data;

function refusal(mutate: (data: Json) => void): string {
  const json = sampleDeploymentJson() as Json;
  mutate(vm(json));
  try {
    parseDeployment(json);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.message;
  }
  assert.fail("accepted");
}

describe("zmachine image semantics", () => {
  test("argv follows Docker: entrypoint override drops the image Cmd, cmd alone keeps the Entrypoint", () => {
    const image = { entrypoint: ["python3"], cmd: ["app.py"] };
    assert.deepEqual(resolveArgv({ entrypoint: "" }, image), ["python3", "app.py"]);
    assert.deepEqual(resolveArgv({ entrypoint: "", cmd: ["server.py"] }, image), ["python3", "server.py"]);
    assert.deepEqual(resolveArgv({ entrypoint: ["sh", "-c", "cd /app && exec x"] }, image), ["sh", "-c", "cd /app && exec x"]);
    assert.deepEqual(resolveArgv({ entrypoint: ["env"], cmd: ["A=1"] }, image), ["env", "A=1"]);
    assert.deepEqual(resolveArgv({ entrypoint: "/bin/app  --x" }, {}), ["/bin/app", "--x"]);
    assert.deepEqual(resolveArgv({ entrypoint: "" }, { argv: ["/start.sh"] }), ["/start.sh"]);
    assert.deepEqual(resolveArgv({ entrypoint: "", cmd: ["top"] }, {}), ["top"]);
    assert.equal(entrypointArgv([]), undefined);
  });

  test("restart policy texts", () => {
    assert.deepEqual(parseRestart("on-failure:3"), { policy: "on-failure", maxRetries: 3 });
    assert.deepEqual(parseRestart("unless-stopped"), { policy: "unless-stopped" });
    assert.throws(() => parseRestart("always:3"), /on-failure\[:N\]/);
    assert.throws(() => parseRestart("sometimes"), /use no, always/);
  });

  test("signals by name or number", () => {
    assert.equal(signalNumber("SIGQUIT"), 3);
    assert.equal(signalNumber("term"), 15);
    assert.equal(signalNumber("9"), 9);
    assert.equal(signalNumber("RTMIN+2"), 36);
    assert.equal(signalNumber("SIGNOPE"), undefined);
    assert.equal(signalNumber("65"), undefined);
  });

  test("accepts the full set and keeps older hashes stable", () => {
    const h0 = deploymentHashHex(parseDeployment(sampleDeploymentJson()));
    const json = sampleDeploymentJson() as Json;
    Object.assign(vm(json), {
      entrypoint: ["python3"], cmd: ["server.py"], workdir: "/app", user: "app:1000", stopSignal: "SIGQUIT",
      restart: { policy: "on-failure", maxRetries: 2 }, healthcheck: { test: ["CMD-SHELL", "wget -q localhost"], intervalSec: 2, timeoutSec: 1, retries: 3, startPeriodSec: 0 },
    });
    const d = parseDeployment(json);
    const h1 = deploymentHashHex(d);
    assert.notEqual(h1, h0);
    vm(json).cmd = ["other.py"];
    assert.notEqual(deploymentHashHex(parseDeployment(json)), h1);
    const legacy = sampleDeploymentJson() as Json;
    vm(legacy).entrypoint = "/x";
    const arr = sampleDeploymentJson() as Json;
    vm(arr).entrypoint = ["/x"];
    assert.notEqual(deploymentHashHex(parseDeployment(legacy)), deploymentHashHex(parseDeployment(arr)));
  });

  const bad: Array<[string, (d: Json) => void, RegExp]> = [
    ["relative workdir", (d) => { d.workdir = "app"; }, /workdir.*absolute path/],
    ["workdir with ..", (d) => { d.workdir = "/app/../etc"; }, /workdir/],
    ["user with spaces", (d) => { d.user = "root; rm"; }, /user.*uid/],
    ["user with two colons", (d) => { d.user = "a:b:c"; }, /user/],
    ["unknown restart policy", (d) => { d.restart = { policy: "sometimes" }; }, /restart/],
    ["maxRetries with always", (d) => { d.restart = { policy: "always", maxRetries: 2 }; }, /restart\.maxRetries.*on-failure/],
    ["negative maxRetries", (d) => { d.restart = { policy: "on-failure", maxRetries: -1 }; }, /restart\.maxRetries/],
    ["unknown stop signal", (d) => { d.stopSignal = "SIGFOO"; }, /stopSignal.*signal name/],
    ["healthcheck without CMD", (d) => { d.healthcheck = { test: ["curl", "x"] }; }, /healthcheck\.test/],
    ["healthcheck CMD-SHELL with 2 words", (d) => { d.healthcheck = { test: ["CMD-SHELL", "a", "b"] }; }, /healthcheck\.test/],
    ["healthcheck interval 0", (d) => { d.healthcheck = { test: ["CMD", "true"], intervalSec: 0 }; }, /healthcheck\.intervalSec/],
    ["healthcheck retries 0", (d) => { d.healthcheck = { test: ["CMD", "true"], retries: 0 }; }, /healthcheck\.retries/],
    ["NUL in cmd", (d) => { d.cmd = ["a\0b"]; }, /cmd.*NUL/],
    ["empty program", (d) => { d.entrypoint = [""]; }, /entrypoint\.0/],
    ["too many words", (d) => { d.cmd = new Array(300).fill("x"); }, /cmd/],
  ];
  for (const [name, mutate, re] of bad) {
    test(`refuses ${name}`, () => assert.match(refusal(mutate), re));
  }
});
