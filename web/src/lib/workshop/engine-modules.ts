// Everything loadEngine() brings in, as one chunk.
export { inspectSet } from '../../../../shared/pki/inspect-set.ts';
export { checkRotation } from '../../../../shared/pki/rotation.ts';
export { writePkcs12 } from '../../../../shared/pki/pkcs12-write.ts';
export { publicJwkOfSpki, jwks } from '../../../../shared/pki/jwk.ts';
export { fingerprints } from '../../../../shared/pki/fingerprint.ts';
export { parseCertificate } from '../../../../shared/pki/certificate.ts';
export { readPem } from '../../../../shared/pki/pem.ts';
export { readInput } from '../../../../shared/pki/read.ts';
export { pkcs8Pem } from '../../../../shared/pki/keys.ts';
