/** Numeric limits shared by validation (bytes unless said otherwise). */
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** Largest byte size a field may declare: 1 PiB. */
export const MAX_BYTE_SIZE = 1024 * 1024 * GiB;
/** Smallest VM memory (REFERENCE.md: 250 MiB). */
export const MIN_MEMORY = 250 * MiB;
/** Largest VM memory a deployment may ask for: 1 TiB. */
export const MAX_MEMORY = 1024 * GiB;
/** Most vCPUs one zmachine may ask for. */
export const MAX_CPU = 256;
/** Smallest root disk of a small machine (REFERENCE.md). */
export const MIN_ROOT_SMALL = 500 * MiB;
/** Smallest root disk of a machine of more than 4 CU. */
export const MIN_ROOT_BIG = 2 * GiB;
/** Longest metadata / description string. */
export const MAX_TEXT = 1024;
