/** Copies bytes into a plain ArrayBuffer-backed array, the only shape Prisma's Bytes accept. */
export function toBytesColumn(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
