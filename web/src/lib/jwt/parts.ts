// Small pure helpers for showing a JWT: its three parts, and its times relative to a clock.

interface JwtParts {
  header: string;
  payload: string;
  signature: string;
}

export function splitCompact(token: string): JwtParts | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  return { header, payload, signature };
}

/** "in 1 min 57 s", "3 s ago": how far an epoch-seconds time is from `nowMs`. */
function relativeTime(epochSec: number, nowMs: number): string {
  const diff = Math.round(epochSec - nowMs / 1000);
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)} min${abs % 60 ? ` ${abs % 60} s` : ''}`;
  else if (abs < 172_800) text = `${Math.floor(abs / 3600)} h${Math.floor((abs % 3600) / 60) ? ` ${Math.floor((abs % 3600) / 60)} min` : ''}`;
  else text = `${Math.floor(abs / 86_400)} days`;
  return diff === 0 ? 'now' : diff > 0 ? `in ${text}` : `${text} ago`;
}

const TIME_CLAIMS = ['iat', 'nbf', 'exp'] as const;

/** The time claims present, as rows for a table. */
export function timeRows(claims: Record<string, unknown>, nowMs: number): { name: string; iso: string; relative: string }[] {
  const rows = [];
  for (const name of TIME_CLAIMS) {
    const v = claims[name];
    if (typeof v === 'number' && Number.isFinite(v)) {
      rows.push({ name, iso: new Date(v * 1000).toISOString().replace('.000Z', 'Z'), relative: relativeTime(v, nowMs) });
    }
  }
  return rows;
}
