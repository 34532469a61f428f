// The shared PKI code runs on WebCrypto; in the relay that is Node's. Importing this module
// installs it once, before anything in shared/pki is used.
import { webcrypto } from 'node:crypto';
import { useCrypto } from '../../shared/pki/issue.ts';

useCrypto(webcrypto as unknown as Crypto);
