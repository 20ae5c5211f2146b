import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeyError } from "../errors/key-error.ts";
import { addressFromPublicKey, checksumAddress, keccak256, newMnemonic, recoverAddress, signDigest, twinKeyFromMnemonic, twinKeyFromPrivateKey, verifyDigest } from "./twin-key.ts";

const HARDHAT = "test test test test test test test test test test test junk";

describe("twin keys", () => {
  test("BIP-39 -> BIP-44 Ethereum path -> the well-known Hardhat account 0", () => {
    const k = twinKeyFromMnemonic(HARDHAT);
    assert.equal(k.address, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    const raw = twinKeyFromPrivateKey("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    assert.equal(raw.address, k.address);
    assert.equal(addressFromPublicKey(k.publicKey), k.address);
  });

  test("a new mnemonic gives a usable key", () => {
    const m = newMnemonic();
    assert.equal(m.split(" ").length, 12);
    assert.match(twinKeyFromMnemonic(m).address, /^0x[0-9a-fA-F]{40}$/);
  });

  test("bad mnemonic and bad private key are KeyErrors", () => {
    assert.throws(() => twinKeyFromMnemonic("not a real mnemonic at all"), KeyError);
    assert.throws(() => twinKeyFromMnemonic(HARDHAT.replace("junk", "test")), KeyError);
    assert.throws(() => twinKeyFromPrivateKey("0x1234"), KeyError);
    assert.throws(() => twinKeyFromPrivateKey(new Uint8Array(32)), KeyError); // zero scalar
  });

  test("EIP-55 checksum", () => {
    assert.equal(checksumAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    assert.throws(() => checksumAddress("0x12"), KeyError);
  });

  test("sign/recover round trip; tampering and malformed signatures fail closed", () => {
    const k = twinKeyFromMnemonic(HARDHAT);
    const digest = keccak256(new TextEncoder().encode("deployment"));
    const sig = signDigest(k, digest);
    assert.equal(sig.length, 2 + 130);
    assert.equal(recoverAddress(digest, sig), k.address);
    assert.ok(verifyDigest(digest, sig, k.address.toLowerCase()));
    const other = keccak256(new TextEncoder().encode("deployment!"));
    assert.ok(!verifyDigest(other, sig, k.address));
    for (const bad of ["", "0x", "0x" + "00".repeat(65), sig.slice(0, -2) + "05", "0xzz" + sig.slice(4), sig + "00"]) {
      assert.equal(recoverAddress(digest, bad), undefined, bad);
    }
    assert.throws(() => signDigest(k, new Uint8Array(31)), KeyError);
  });

  test("high-s (malleated) signatures are refused", () => {
    const k = twinKeyFromMnemonic(HARDHAT);
    const digest = keccak256(new TextEncoder().encode("x"));
    const sig = signDigest(k, digest).slice(2);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt("0x" + sig.slice(64, 128));
    const highS = (n - s).toString(16).padStart(64, "0");
    const v = sig.slice(128) === "00" ? "01" : "00";
    assert.equal(recoverAddress(digest, "0x" + sig.slice(0, 64) + highS + v), undefined);
  });
});
