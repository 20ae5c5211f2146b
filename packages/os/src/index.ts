// @zgrid/os: the stateless Zero-OS boot image (built by scripts/build-image.sh), its first process,
// the boot server (HTTP + iPXE + dnsmasq) and the ISO. See README.md.
export * from "./boot/boot-errors.ts";
export * from "./boot/boot-params.ts";
export * from "./boot/node-seed.ts";
export * from "./boot/start-release.ts";
export * from "./boot/first-process.ts";
export * from "./server/ipxe-script.ts";
export * from "./server/dnsmasq.ts";
export * from "./server/boot-server.ts";
export * from "./server/build-iso.ts";
export * from "./server/image-paths.ts";
