// snappyjs ships no types; this is the one function Sluice calls.
declare module 'snappyjs' {
  /** Decompresses a snappy block; throws on a bad stream or when it would exceed maxLength bytes. */
  export function uncompress<T extends Buffer | Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  /** Compresses to a snappy block. */
  export function compress<T extends Buffer | Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
