import { request as httpRequest } from 'node:http';
import { test, expect } from '@playwright/test';
import { relayOrigin } from './harness.ts';

/** Status of a WebSocket upgrade as the browser would send it from the relay's own origin. */
function upgradeStatus(path: string): Promise<number> {
  const origin = new URL(relayOrigin());
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: origin.hostname,
      port: origin.port,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        origin: origin.origin,
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a page opened without the token shows that the relay refused it, and why', async ({ page }) => {
  expect(await upgradeStatus('/ws')).toBe(403);

  await page.goto(`${relayOrigin()}/`);
  await expect(page.getByTestId('relay-state')).toHaveText('refused');
  await expect(page.getByRole('status', { name: 'Relay status' })).toContainText('no access token');
  const alert = page.getByRole('alert').filter({ hasText: 'The relay refused this page' });
  await expect(alert).toContainText("opened without the relay's access token");
  await expect(alert).toContainText('?token=');
  await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Run the lab demo' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeDisabled();
});

test('a page with a stale token is refused with a hint to open the new address', async ({ page }) => {
  expect(await upgradeStatus(`/ws?token=${'0'.repeat(64)}`)).toBe(403);

  await page.goto(`${relayOrigin()}/?token=${'0'.repeat(64)}`);
  await expect(page.getByTestId('relay-state')).toHaveText('refused');
  const alert = page.getByRole('alert').filter({ hasText: 'The relay refused this page' });
  await expect(alert).toContainText('access token is not the current one');
  await expect(alert).toContainText('open the address it printed this time');
  // The token is taken out of the address bar so it does not sit on screen.
  expect(new URL(page.url()).searchParams.has('token')).toBe(false);
});
