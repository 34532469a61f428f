// Byte helpers that behave the same for Buffers and plain Uint8Arrays. Buffer#slice shares
// memory (unlike Uint8Array#slice), so copies are made explicitly: kept bytes must not pin, or
// change with, the socket chunk they came from, and come out as plain Uint8Arrays.

export function copyBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
