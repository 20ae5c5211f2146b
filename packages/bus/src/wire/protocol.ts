/** The libp2p protocol id of bus streams. Bump the version on any incompatible wire change. */
export const BUS_PROTOCOL = "/zgrid/bus/1.0.0";
