/** Test helper: asserts that a chain call is refused with a given Solidity error (typed). */
import assert from "node:assert/strict";
import { ChainRevertError } from "../errors/chain-error.ts";

export async function assertRevert(
  promise: Promise<unknown>, errorName: string, kind: new (...a: never[]) => ChainRevertError = ChainRevertError,
  messageIncludes?: string,
): Promise<ChainRevertError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof kind, `expected ${kind.name} ${errorName}, got ${String(e)}`);
    const err = e as ChainRevertError;
    assert.equal(err.errorName, errorName, `expected ${errorName}, got ${err.errorName}: ${err.message}`);
    if (messageIncludes) assert.ok(err.shortMessage.includes(messageIncludes), `"${err.shortMessage}" should include "${messageIncludes}"`);
    return err;
  }
  assert.fail(`expected the call to revert with ${errorName}`);
}
