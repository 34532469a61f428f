/** Offers `data` as a file download named `name`. */
export function saveFile(name: string, data: string | Uint8Array, type: string): void {
  const part = typeof data === 'string' ? data : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
  const url = URL.createObjectURL(new Blob([part], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the click; revoking at once can cancel it in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const MIME = {
  pem: 'application/x-pem-file',
  p12: 'application/x-pkcs12',
  json: 'application/json',
} as const;
