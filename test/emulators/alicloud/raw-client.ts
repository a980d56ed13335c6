// A caller that signs ACS3-HMAC-SHA256 requests itself, written from the
// published V3 description (not from the emulator's checker), for tests that
// need raw bytes or malformed requests the SDK would never send.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { EMULATOR_ACCESS_KEY } from './emulator.ts';

export interface RawCall {
  readonly action?: string;
  readonly version?: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Form-encoded body parameters. */
  readonly body?: string;
  readonly date?: string;
  readonly nonce?: string;
  /** Headers sent but left out of SignedHeaders. */
  readonly unsigned?: readonly string[];
  /** Headers removed after signing. */
  readonly drop?: readonly string[];
  /** Edits the headers after signing. */
  readonly tamper?: (headers: Record<string, string>) => void;
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

export async function rawCall(endpoint: string, o: RawCall = {}): Promise<RawAnswer> {
  const query = o.query ?? { RegionId: 'cn-hangzhou', RouteTableId: 'vtb-1' };
  const body = o.body ?? '';
  const headers: Record<string, string> = {
    host: endpoint,
    'x-acs-action': o.action ?? 'DescribeRouteEntryList',
    'x-acs-version': o.version ?? '2016-04-28',
    'x-acs-date': o.date ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    'x-acs-signature-nonce': o.nonce ?? randomUUID(),
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
  };
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const signed = Object.keys(headers).filter((h) => !(o.unsigned ?? []).includes(h)).sort();
  const canonical = [
    'POST', '/', Object.keys(query).sort().map((k) => `${k}=${rfc3986(query[k]!)}`).join('&'),
    signed.map((h) => `${h}:${headers[h]}\n`).join(''), signed.join(';'), headers['x-acs-content-sha256'],
  ].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', EMULATOR_ACCESS_KEY.secret).update(toSign).digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${EMULATOR_ACCESS_KEY.id},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  o.tamper?.(headers);
  for (const h of o.drop ?? []) delete headers[h];
  delete headers.host; // fetch sets it, to the same value
  const qs = Object.entries(query).map(([k, v]) => `${k}=${rfc3986(v)}`).join('&');
  const res = await fetch(`http://${endpoint}/?${qs}`, { method: 'POST', headers, body: body || undefined });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** Percent-encoding as the V3 description asks: RFC 3986 unreserved characters stay. */
export function rfc3986(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
