// The relay's own errors extend the shared HarnessError: a stable `code`, `name` from the class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HarnessError } from '../shared/errors.ts';
import { SecretError } from './access-secret.ts';
import { BadInputFile } from './commands/client-files.ts';
import { CallFailure } from './net/http-call.ts';
import { FlowStopped } from './flows/flow-steps.ts';
import { CaBundleError } from './inbound/trust-bundle.ts';
import { ListenError } from './inbound/listener.ts';
import { JwksFetchFailed } from './jwks/fetch-jwks.ts';
import { LabRegistrationRefused } from './lab/token-service.ts';
import { CancelledError, PhaseError } from './net/dial.ts';
import { OutboundRefused } from './net/outbound-guard.ts';
import { DaemonStartError } from './testing/daemon.ts';
import { TlsTapError } from './tls/errors.ts';

const cases: { err: HarnessError; name: string; code: string; message: string }[] = [
  { err: new SecretError('too short'), name: 'SecretError', code: 'secret_invalid', message: 'too short' },
  { err: new BadInputFile('cannot read a.pem'), name: 'BadInputFile', code: 'input_file_invalid', message: 'cannot read a.pem' },
  { err: new CallFailure('connect_refused', ['ECONNREFUSED'], 'refused', 'tcp'), name: 'CallFailure', code: 'connect_refused', message: 'refused' },
  { err: new FlowStopped('state_missing', 'no state'), name: 'FlowStopped', code: 'state_missing', message: 'no state' },
  { err: new CaBundleError('no certificate'), name: 'CaBundleError', code: 'ca_invalid', message: 'no certificate' },
  { err: new ListenError('port in use'), name: 'ListenError', code: 'listen_failed', message: 'port in use' },
  { err: new JwksFetchFailed('404'), name: 'JwksFetchFailed', code: 'jwks_fetch_failed', message: '404' },
  { err: new LabRegistrationRefused('jwk_invalid', 'too small'), name: 'LabRegistrationRefused', code: 'jwk_invalid', message: 'too small' },
  { err: new CancelledError(), name: 'CancelledError', code: 'cancelled', message: 'run cancelled' },
  { err: new PhaseError({ phase: 'tcp', errorCode: 'ECONNREFUSED' }), name: 'PhaseError', code: 'phase_failed', message: 'ECONNREFUSED' },
  { err: new OutboundRefused('target_address_refused', 'refused'), name: 'OutboundRefused', code: 'target_address_refused', message: 'refused' },
  { err: new DaemonStartError('nginx exited', true), name: 'DaemonStartError', code: 'daemon_start_failed', message: 'nginx exited' },
  { err: new TlsTapError('not_tls', 'HTTP'), name: 'TlsTapError', code: 'not_tls', message: 'HTTP' },
];

test('each relay error is a HarnessError with its code, its class name and its message', () => {
  for (const c of cases) {
    assert.ok(c.err instanceof HarnessError, c.name);
    assert.equal(c.err.name, c.name);
    assert.equal(c.err.code, c.code, c.name);
    assert.equal(c.err.message, c.message, c.name);
  }
  // The Node error code a phase failed with stays where it was, beside the class's own code.
  assert.equal((cases.find((c) => c.name === 'PhaseError')!.err as PhaseError).signals.errorCode, 'ECONNREFUSED');
});
