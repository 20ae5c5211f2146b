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
