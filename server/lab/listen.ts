// Where the lab's servers listen: stable ports by default, so slides and lesson texts stay right.
import type { AddressInfo, Server } from 'node:net';

/**
 * Listens on `port`, or on a free port when `port` is taken (reported, never silent): a second
 * harness on the same machine still gets a lab, just not on the stable ports.
 */
export async function listenStable(server: Server, port: number, host: string, onPortTaken?: (wanted: number, got: number) => void): Promise<number> {
  const listenOn = (p: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  if (port === 0) return listenOn(0);
  try {
    return await listenOn(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const got = await listenOn(0);
    onPortTaken?.(port, got);
    return got;
  }
}

/** The lab's three stable ports from its first: the mTLS target, the token service, its login page. */
export function labPorts(first: number): number[] {
  return [first, first + 1, first + 2];
}
