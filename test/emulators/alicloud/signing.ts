// Checks an ACS3-HMAC-SHA256 (V3) signed request the way Alibaba's gateway does,
// from the published V3 signature description:
//   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n
//                      CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
//   StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//   Signature        = hex(hmac-sha256(secret, StringToSign))
// Query values are RFC 3986 percent-encoded; canonical headers are the signed
// ones, lower-cased, sorted, `name:trimmed value\n`.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { apiErrors } from './errors.ts';

const ALGORITHM = 'ACS3-HMAC-SHA256';

export interface SignedRequest {
  readonly method: string;
  readonly pathname: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface SignatureCheck {
  /** AccessKeyId → secret. Absent: only the shape of the signature is checked. */
  readonly accessKeys?: ReadonlyMap<string, string> | undefined;
  /** How far x-acs-date may be from now. */
  readonly maxSkewMs: number;
  readonly now: number;
  /** Nonces seen recently, with when; a repeat is rejected. */
  readonly nonces: Map<string, number>;
}

/** Returns the caller's AccessKeyId, or throws the gateway's ApiError. */
export function verifySignature(req: SignedRequest, check: SignatureCheck): string {
  const auth = header(req.headers, 'authorization');
  if (!auth) throw apiErrors.incompleteSignature('Authorization header is missing.');
  const parsed = parseAuthorization(auth);
  for (const name of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'] as const) {
    if (!header(req.headers, name)) throw apiErrors.incompleteSignature(`Header ${name} is missing.`);
    if (!parsed.signedHeaders.includes(name)) throw apiErrors.incompleteSignature(`Header ${name} is not signed.`);
  }
  const date = Date.parse(header(req.headers, 'x-acs-date')!);
  if (Number.isNaN(date) || Math.abs(check.now - date) > check.maxSkewMs) throw apiErrors.timestampExpired();
  const payloadHash = sha256Hex(req.body);
  if (header(req.headers, 'x-acs-content-sha256') !== payloadHash) throw apiErrors.signatureDoesNotMatch();
  rememberNonce(check, header(req.headers, 'x-acs-signature-nonce')!);
  if (!check.accessKeys) return parsed.accessKeyId;
  const secret = check.accessKeys.get(parsed.accessKeyId);
  if (secret === undefined) throw apiErrors.accessKeyNotFound();
  const expected = signature(secret, canonicalRequest(req, parsed.signedHeaders, payloadHash));
  if (!sameHex(expected, parsed.signature)) throw apiErrors.signatureDoesNotMatch();
  return parsed.accessKeyId;
}

export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[], payloadHash: string): string {
  const query = Object.keys(req.query)
    .sort()
    .map((k) => `${k}=${percentEncode(req.query[k]!)}`)
    .join('&');
  const headers = signedHeaders.map((h) => `${h}:${(header(req.headers, h) ?? '').trim()}\n`).join('');
  return [req.method.toUpperCase(), req.pathname || '/', query, headers, signedHeaders.join(';'), payloadHash].join('\n');
}

export function signature(secret: string, canonical: string): string {
  const stringToSign = `${ALGORITHM}\n${sha256Hex(Buffer.from(canonical))}`;
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986: encodeURIComponent leaves !'()* alone; the gateway encodes them. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseAuthorization(auth: string): { accessKeyId: string; signedHeaders: string[]; signature: string } {
  if (!auth.startsWith(`${ALGORITHM} `)) throw apiErrors.incompleteSignature(`Authorization must use ${ALGORITHM}.`);
  const fields = new Map<string, string>();
  for (const part of auth.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const sig = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !sig) {
    throw apiErrors.incompleteSignature('Authorization needs Credential, SignedHeaders and Signature.');
  }
  const names = signedHeaders.split(';');
  const sorted = [...names].sort();
  if (names.some((n, i) => n !== sorted[i] || n !== n.toLowerCase())) {
    throw apiErrors.incompleteSignature('SignedHeaders must be lower-case and sorted.');
  }
  return { accessKeyId, signedHeaders: names, signature: sig };
}

function rememberNonce(check: SignatureCheck, nonce: string): void {
  for (const [n, at] of check.nonces) {
    if (check.now - at <= check.maxSkewMs) break;
    check.nonces.delete(n);
  }
  if (check.nonces.has(nonce)) throw apiErrors.nonceUsed();
  check.nonces.set(nonce, check.now);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
