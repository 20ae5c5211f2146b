// @zgrid/os/vm-nodes — nodes as QEMU machines that network-boot this checkout's node release
// (`zgrid up --vm-nodes N`, bench/boot). Its own entry point: it loads the release builder
// (@zgrid/upgrader), which the boot server and the boot image do not need. See ../../README.md.
export * from "./pxe-machine.ts";
export * from "./vm-nodes.ts";
