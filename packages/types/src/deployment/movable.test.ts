import { test } from "node:test";
import assert from "node:assert/strict";
import { isMovableMetadata } from "./movable.ts";

test("only a JSON object with movable === true is consent", () => {
  assert.equal(isMovableMetadata('{"v":1,"kind":"vm","name":"web_2","movable":true}'), true);
  for (const text of ["", "movable", '{"v":1,"kind":"vm","name":"db"}', '{"movable":"true"}', '{"movable":1}', '["movable",true]', '{"movable":true', "null", '"movable"'])
    assert.equal(isMovableMetadata(text), false, text);
});
