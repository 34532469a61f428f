/** Readable names for the detail keys the relay's steps carry; unknown keys show as they are. */
const LABELS: Record<string, string> = {
  protocol: 'Protocol',
  cipher: 'Cipher suite',
  certificateRequested: 'Server asked for a client certificate',
  acceptableCAs: 'Client CAs the server accepts',
  sentChain: 'Client chain sent',
  serverChain: 'Server chain received',
  status: 'HTTP status',
  headers: 'Response headers',
  body: 'Response body',
  address: 'Address',
  addresses: 'Addresses',
};

export interface DetailEntry {
  key: string;
  label: string;
  kind: 'text' | 'list' | 'block';
  text: string;
  items: string[];
}

export function detailEntries(details: Record<string, unknown>): DetailEntry[] {
  return Object.entries(details).map(([key, value]) => {
    const label = LABELS[key] ?? key;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return { key, label, kind: 'list', text: '', items: value.map(String) };
    }
    if (typeof value === 'boolean') return { key, label, kind: 'text', text: value ? 'yes' : 'no', items: [] };
    if (typeof value === 'string' && (value.length > 120 || value.includes('\n'))) {
      return { key, label, kind: 'block', text: value, items: [] };
    }
    if (typeof value === 'object' && value !== null) {
      return { key, label, kind: 'block', text: JSON.stringify(value, null, 2), items: [] };
    }
    return { key, label, kind: 'text', text: String(value), items: [] };
  });
}
