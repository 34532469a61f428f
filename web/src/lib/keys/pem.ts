// Plain-text PEM handling that needs no ASN.1 parser, so it can live in the first-load bundle.

interface PemBlock {
  label: string;
  text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every PEM block in `text`, in order, normalised to LF line endings with a final newline. */
export function pemBlocks(text: string): PemBlock[] {
  const normalised = text.replace(/\r\n?/g, '\n');
  return [...normalised.matchAll(BLOCK)].map((m) => ({ label: m[1] ?? '', text: `${m[0].trim()}\n` }));
}

type PrivateKeyCheck = { ok: true; pem: string } | { ok: false; message: string };

/** Accepts exactly one unencrypted private key; explains what to do with anything else. */
export function checkPrivateKeyPem(text: string): PrivateKeyCheck {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) return { ok: false, message: 'No PEM block found: paste text starting with -----BEGIN PRIVATE KEY-----.' };
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keys.some((b) => b.label === 'ENCRYPTED PRIVATE KEY') || /Proc-Type: 4,ENCRYPTED/.test(text)) {
    return { ok: false, message: 'The key is encrypted. Decrypt it first: openssl pkey -in key.pem -out key-plain.pem' };
  }
  if (keys.length === 0) return { ok: false, message: `Expected a private key, found ${blocks.map((b) => b.label).join(', ')}.` };
  if (keys.length > 1) return { ok: false, message: 'Paste one private key, not several.' };
  return { ok: true, pem: keys[0]!.text };
}

type CertificateCheck = { ok: true; leafPem: string; chainPem: string } | { ok: false; message: string };

/** Accepts a leaf certificate optionally followed by intermediates (the order a TLS client sends). */
export function checkCertificatePem(text: string): CertificateCheck {
  const blocks = pemBlocks(text);
  if (blocks.some((b) => b.label.endsWith('PRIVATE KEY'))) {
    return { ok: false, message: 'This field is for certificates; the private key goes in the key field.' };
  }
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) return { ok: false, message: 'No certificate found: paste text starting with -----BEGIN CERTIFICATE-----.' };
  return { ok: true, leafPem: certs[0]!.text, chainPem: certs.slice(1).map((c) => c.text).join('') };
}
