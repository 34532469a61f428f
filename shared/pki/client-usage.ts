// Whether the end-entity certificates of an inspected set can serve as client certificates.
// Given with its private key, a certificate is being offered as a client credential, and a
// missing clientAuth EKU is the error servers will raise (alert 43); without its key it may be a
// server's certificate, so the same fact is a warning.
import type { InspectionReport } from './inspect-set.ts';
import { problem, type Problem } from './problems.ts';

export function clientUsageProblems(report: Pick<InspectionReport, 'certificates' | 'keys'>): Problem[] {
  const withKey = new Set(report.keys.flatMap((k) => k.matches));
  const out: Problem[] = [];
  for (const c of report.certificates) {
    const eku = c.extendedKeyUsage;
    if (c.isCa || !eku || eku.usages.some((u) => u === 'clientAuth' || u === 'anyExtendedKeyUsage')) continue;
    const purposes = eku.usages.join(', ') || 'no purpose';
    out.push(withKey.has(c.where)
      ? problem('eku_missing_client_auth', `${c.subject} comes with its private key, as a client credential, but is for ${purposes} only`, c.where)
      : problem('eku_not_for_client', `${c.subject} is for ${purposes} only, not clientAuth: it cannot serve as a client certificate`, c.where));
  }
  return out;
}
