/**
 * A grid connection as given by a user (`--grid FILE`): checked with zod. Apart from
 * grid-connection.ts so a read of the local grid (`zgrid vm ls`) never loads zod for it.
 *
 * @example
 * ```ts
 * const r = gridConnectionSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
 * ```
 */
import { z } from "zod";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((a) => a as `0x${string}`);
const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((a) => a as `0x${string}`);

export const gridConnectionSchema = z.object({
  rpcUrl: z.url(),
  addresses: z.object({ token: address, registry: address, contracts: address, governance: address }),
  privateKey: privateKey.optional(),
  mnemonic: z.string().optional(),
  /**
   * The key's chain account when already known (the local grid's file has it): a read command then
   * derives no key unless it must sign (deriving one costs ~0.1 s of elliptic-curve set-up).
   */
  account: address.optional(),
  /** Local grid only: the dev chain's admin key (faucet: `twin fund`). */
  adminKey: privateKey.optional(),
});
export type GridConnection = z.output<typeof gridConnectionSchema>;
export type GridConnectionSchema = typeof gridConnectionSchema;
