import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay } from '../server/relay.ts';

/**
 * Starts the real relay with its lab on a free port and a fresh lab CA, for all tests.
 * Tests read the page address from HARNESS_URL (with token) and HARNESS_ORIGIN (without).
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'harness-e2e-'));
  const relay = await startRelay({ port: 0, lab: true, dataDir, quiet: true });
  process.env.HARNESS_URL = relay.url;
  process.env.HARNESS_ORIGIN = relay.origin;
  // `harness run` in a test uses the same lab as this relay, as it does on a user's machine.
  process.env.HARNESS_LAB_DIR = dataDir;
  return async () => {
    await relay.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
