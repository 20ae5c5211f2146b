/** The dev chain's accounts: Hardhat's default mnemonic, index 0 is the admin/deployer. */
import { bytesToHex, twinKeyFromMnemonic } from "@zgrid/types";
import type { Address, Hex } from "viem";
import { DEV_MNEMONIC } from "./edr-provider.ts";
import { peerIdFromPublicKey } from "./peer-id.ts";

export interface DevAccount {
  index: number;
  address: Address;
  privateKey: Hex;
  peerId: string;
}

/** Account `index` of the dev mnemonic (m/44'/60'/0'/0/index). */
export function devAccount(index: number): DevAccount {
  const key = twinKeyFromMnemonic(DEV_MNEMONIC, `m/44'/60'/0'/0/${index}`);
  return { index, address: key.address, privateKey: `0x${bytesToHex(key.privateKey)}` as Hex, peerId: peerIdFromPublicKey(key.publicKey) };
}
