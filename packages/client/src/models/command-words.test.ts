import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../errors/client-errors.ts";
import { commandWords } from "./command-words.ts";
import { vmModelSchema } from "./vm-model.ts";

test("shell words keep quoted arguments whole; variables stay for the VM's shell", () => {
  assert.deepEqual(commandWords(`sh -c "cd /app && exec python3 server.py"`), ["sh", "-c", "cd /app && exec python3 server.py"]);
  assert.deepEqual(commandWords(`echo 'a  b' c\\ d "$HOME/x" \${Y}z *.py`), ["echo", "a  b", "c d", "${HOME}/x", "${Y}z", "*.py"]);
  assert.deepEqual(commandWords("  "), []);
  assert.deepEqual(commandWords("app --flag # a comment"), ["app", "--flag"]);
});

test("a JSON array (Docker's exec form) is taken as is", () => {
  assert.deepEqual(commandWords('["python3", "server.py", "a b"]'), ["python3", "server.py", "a b"]);
  assert.deepEqual(commandWords(["x", "y z"]), ["x", "y z"]);
});

test("refused with what to do: shell operators outside quotes, bad JSON, non-strings, too many words", () => {
  assert.throws(() => commandWords("cd /app && ./run"), (e: unknown) => e instanceof InputError && /shell operator '&&'/.test(e.message) && /sh -c 'cd \/app && \.\/run'/.test(e.hint ?? ""));
  assert.throws(() => commandWords('["a", 1]'), (e: unknown) => e instanceof InputError && /JSON array of strings/.test(e.message));
  assert.throws(() => commandWords("[nope"), (e: unknown) => e instanceof InputError && /not a JSON array/.test(e.message));
  assert.throws(() => commandWords(Array.from({ length: 300 }, () => "x")), /at most 256/);
});

test("the VM model takes entrypoint and cmd as words, arrays or JSON; errors name the field", () => {
  const vm = vmModelSchema.parse({ name: "web", flist: "http://hub/x.fl", entrypoint: `sh -c "exec app"`, cmd: '["--port", "80"]' });
  assert.deepEqual(vm.entrypoint, ["sh", "-c", "exec app"]);
  assert.deepEqual(vm.cmd, ["--port", "80"]);
  assert.deepEqual(vmModelSchema.parse({ name: "web", flist: "http://hub/x.fl" }).entrypoint, []);
  const r = vmModelSchema.safeParse({ name: "web", flist: "http://hub/x.fl", cmd: "a | b" });
  assert.ok(!r.success && r.error.issues[0]!.path.join(".") === "cmd" && /shell operator '\|'/.test(r.error.issues[0]!.message));
});

test("the zmachine carries entrypoint/cmd as argv and the image fields the node checks; none set: the old empty entrypoint", async () => {
  const { parseDeployment } = await import("@zgrid/types");
  const { vmWorkloads } = await import("./vm-model.ts");
  const vm = vmModelSchema.parse({
    name: "app", flist: "http://hub/x.fl", network: "net", entrypoint: `sh -c "cd /app && exec python3 server.py"`, cmd: "--port 8000",
    workdir: "/app", user: "1000:1000", restart: "on-failure:3", stop_signal: "SIGINT", healthcheck: { test: ["CMD-SHELL", "nc -z 127.0.0.1 8000"], interval: 2 },
  });
  const data = (vmWorkloads(vm, "10.20.2.2").at(-1) as { data: Record<string, unknown> }).data;
  assert.deepEqual(data.entrypoint, ["sh", "-c", "cd /app && exec python3 server.py"]);
  assert.deepEqual(data.cmd, ["--port", "8000"]);
  assert.deepEqual(data.restart, { policy: "on-failure", maxRetries: 3 });
  assert.deepEqual(data.healthcheck, { test: ["CMD-SHELL", "nc -z 127.0.0.1 8000"], intervalSec: 2, timeoutSec: 30, retries: 3, startPeriodSec: 0 });
  const d = parseDeployment({
    version: 0, twin_id: 1, contract_id: 0, metadata: "", description: "", signature_requirement: { requests: [{ twin_id: 1, required: true, weight: 1 }], weight_required: 1 },
    workloads: vmWorkloads(vm, "10.20.2.2"),
  }, { externalNetworks: ["net"] });
  assert.equal(d.workloads.at(-1)!.type, "zmachine", "the node's schema takes it");
  const plain = (vmWorkloads(vmModelSchema.parse({ name: "web", flist: "http://hub/x.fl" }), "10.20.2.2").at(-1) as { data: Record<string, unknown> }).data;
  assert.equal(plain.entrypoint, "");
  assert.ok(!("cmd" in plain) && !("workdir" in plain));
});
