// The TLS alert catalogue (number → RFC name, e.g. 48 → unknown_ca, 116 → certificate_required).
// One list serves the relay, the browser and the diagnoses, so it lives in shared/ and is
// re-exported here for the tap's users.
export { alertFromError, alertName, TLS_ALERTS } from '../../shared/tls/alerts.ts';
