#!/usr/bin/env -S node --no-warnings
/**
 * zgrid-flist: pack, unpack, inspect/ls, tag, sign, verify, mount, convert, push, hub.
 * (Absorbed by the `zgrid` CLI later; every command calls one library function.)
 *
 * @example
 * ```sh
 * zgrid-flist pack ./rootfs -o app.fl --store dir:///srv/blocks
 * ZGRID_MNEMONIC="…" zgrid-flist sign app.fl
 * zgrid-flist verify app.fl --trusted 0xf39F…
 * zgrid-flist mount app.fl /mnt/app --cache /var/cache/zgrid
 * ```
 */
import { parseArgs } from "node:util";
import { BaseError, twinKeyFromMnemonic, twinKeyFromPrivateKey, type TwinKey } from "@zgrid/types";
import {
  convertOci, editFlist, FlistReader, listHubFlists, mountFlist, packFlist, pushFlist, readFlistMeta, signFlist, startHub, unpackFlist, verifyFlist,
  type OciSource,
} from "../src/index.ts";

const USAGE = `usage: zgrid flist <command> [options]   (also: zgrid-flist)
  pack <dir> -o <out.fl> --store <[range=]url>... [--tag k=v]... [--block-size N --force]
  unpack <fl> <target> [--store url]... [--trusted 0x..]...
  inspect <fl>                       tags, routes, signer, startup, counts (JSON)
  ls <fl>                            every path with mode, owner, size
  tag <fl> [--set k=v]... [--rm k]...  change tags (breaks an existing signature)
  sign <fl>                          your twin key (zgrid flist: the local grid's; else ZGRID_MNEMONIC or ZGRID_PRIVATE_KEY)
  verify <fl> [--store url]... [--trusted 0x..]... [--require-signature]
  mount <fl|url> <mountpoint> --cache <dir> [--cache-size bytes] [--store url]... [--trusted 0x..]...
  convert (--oci-layout dir[:tag] | --docker-archive tar | --image ref) -o <out.fl> --store url [--sign]
  push <fl> --hub <url>               upload a signed flist and its blocks
  list --hub <url> [--owner 0x..]
  hub --data <dir> [--port N] [--host H]   serve a hub (signing key from the env enables /convert)`;

function keyFromEnv(required: boolean): TwinKey | undefined {
  if (process.env.ZGRID_MNEMONIC) return twinKeyFromMnemonic(process.env.ZGRID_MNEMONIC);
  if (process.env.ZGRID_PRIVATE_KEY) return twinKeyFromPrivateKey(process.env.ZGRID_PRIVATE_KEY);
  if (required) throw new BaseError("no signing key", { hint: "run it as `zgrid flist …` next to a local grid (its twin key is used), or set ZGRID_MNEMONIC or ZGRID_PRIVATE_KEY" });
  return undefined;
}

function out(value: unknown): void {
  process.stdout.write(typeof value === "string" ? `${value}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

function kv(list: string[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((s) => {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new BaseError(`expected key=value, got ${s}`);
    return [s.slice(0, eq), s.slice(eq + 1)];
  }));
}

/** The usage lines of one command (all of them when it is unknown). */
function usageOf(command: string | undefined): string {
  const lines = USAGE.split("\n").filter((l) => command && l.trim().startsWith(`${command} `));
  return lines.length ? `usage: zgrid flist ${lines.map((l) => l.trim()).join("\n       zgrid flist ")}` : USAGE;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes("--help") || rest.includes("-h")) {
    out(usageOf(command));
    return 0;
  }
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(rest);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${usageOf(command)}\n`);
    return 2;
  }
  const { values: o, positionals: p } = parsed;
  const need = (v: string | undefined, what: string): string => {
    if (!v) throw new BaseError(`missing ${what}`, { hint: usageOf(command) });
    return v;
  };
  return run(command, o, p, need);
}

function parseOptions(rest: string[]) {
  return parseArgs({
    args: rest, allowPositionals: true, strict: true,
    options: {
      output: { type: "string", short: "o" }, store: { type: "string", multiple: true }, tag: { type: "string", multiple: true },
      set: { type: "string", multiple: true }, rm: { type: "string", multiple: true }, trusted: { type: "string", multiple: true },
      "block-size": { type: "string" }, "require-signature": { type: "boolean" }, force: { type: "boolean" }, cache: { type: "string" }, "cache-size": { type: "string" },
      "oci-layout": { type: "string" }, "docker-archive": { type: "string" }, image: { type: "string" }, sign: { type: "boolean" },
      hub: { type: "string" }, owner: { type: "string" }, data: { type: "string" }, port: { type: "string" }, host: { type: "string" },
    },
  });
}

async function run(command: string | undefined, o: ReturnType<typeof parseOptions>["values"], p: string[], need: (v: string | undefined, what: string) => string): Promise<number> {
  switch (command) {
    case "pack":
      out(await packFlist({ source: need(p[0], "<dir>"), output: need(o.output, "-o <out.fl>"), stores: o.store ?? [], tags: kv(o.tag), blockSize: o["block-size"] ? Number(o["block-size"]) : undefined, force: o.force }));
      return 0;
    case "unpack":
      out(await unpackFlist({ flist: need(p[0], "<fl>"), target: need(p[1], "<target>"), stores: o.store, trustedSigners: o.trusted, requireSignature: o["require-signature"] }));
      return 0;
    case "inspect":
      out(readFlistMeta(need(p[0], "<fl>")));
      return 0;
    case "ls": {
      const reader = FlistReader.open(need(p[0], "<fl>"));
      for (const { path, inode } of reader.walk()) {
        const link = inode.target ? ` -> ${inode.target.toString()}` : "";
        out(`${inode.mode.toString(8).padStart(7, "0")} ${inode.uid}:${inode.gid} ${String(inode.size).padStart(10)} ${path.toString()}${link}`);
      }
      reader.close();
      return 0;
    }
    case "tag": {
      const fl = need(p[0], "<fl>");
      if (o.set || o.rm) editFlist(fl, { setTags: kv(o.set), removeTags: o.rm });
      const reader = FlistReader.open(fl);
      out(reader.tags());
      reader.close();
      return 0;
    }
    case "sign":
      out(await signFlist(need(p[0], "<fl>"), keyFromEnv(true)!));
      return 0;
    case "verify": {
      const report = await verifyFlist({ flist: need(p[0], "<fl>"), stores: o.store, trustedSigners: o.trusted, requireSignature: o["require-signature"] });
      out(report);
      for (const f of report.failures) process.stderr.write(`BAD BLOCK ${f.id}: ${f.reason} (in ${f.files.join(", ")})\n`);
      return report.ok ? 0 : 1;
    }
    case "mount": {
      const handle = await mountFlist({
        flist: need(p[0], "<fl|url>"), mountpoint: need(p[1], "<mountpoint>"), stores: o.store, trustedSigners: o.trusted, requireSignature: o["require-signature"],
        cache: { dir: need(o.cache, "--cache <dir>"), maxBytes: Number(o["cache-size"] ?? 4 * 2 ** 30) },
      });
      out(`mounted ${handle.mountpoint} (pid ${handle.pid}); Ctrl-C to unmount`);
      await new Promise<void>((resolve) => {
        const stop = (): void => void handle.unmount().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      out(await handle.metrics().catch(() => "unmounted"));
      return 0;
    }
    case "convert": {
      let source: OciSource;
      if (o["oci-layout"]) {
        const [layout, tag] = o["oci-layout"].split(/:(?=[^/]*$)/);
        source = { layout: layout!, tag };
      } else if (o["docker-archive"]) source = { dockerArchive: o["docker-archive"] };
      else source = { registry: need(o.image, "--oci-layout, --docker-archive or --image") };
      // everything a convert needs is checked before a layer is pulled
      const output = need(o.output, "-o <out.fl>");
      const stores = o.store ?? [];
      need(stores[0], "--store <url> (where the blocks go, e.g. dir:///var/cache/zgrid/blocks)");
      const key = o.sign ? keyFromEnv(true) : undefined;
      const result = await convertOci({ source, output, stores, key, onProgress: (e) => process.stderr.write(`${JSON.stringify(e)}\n`) });
      out(result);
      return 0;
    }
    case "push":
      out(await pushFlist({ hub: need(o.hub, "--hub <url>"), flist: need(p[0], "<fl>"), stores: o.store, key: keyFromEnv(false) }));
      return 0;
    case "list":
      out(await listHubFlists(need(o.hub, "--hub <url>"), o.owner));
      return 0;
    case "hub": {
      const hub = await startHub({ dataDir: need(o.data, "--data <dir>"), port: Number(o.port ?? 8080), host: o.host ?? "127.0.0.1", key: keyFromEnv(false) });
      out(`hub listening on ${hub.url}`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await hub.close();
      return 0;
    }
    default:
      out(USAGE);
      return command === undefined || command === "help" || command === "--help" || command === "-h" ? 0 : 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  if (e instanceof BaseError) process.stderr.write(`error [${e.code}]: ${e.shortMessage}\n${e.hint ? `hint: ${e.hint}\n` : ""}`);
  else process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
