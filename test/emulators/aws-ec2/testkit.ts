// Helpers for the emulator's own tests: raw signed-looking requests and a clock
// that tests move by hand.
import type { Clock } from '../../../src/util/time.ts';

/** SigV4-shaped headers (the emulator checks their form, not the signature). */
export function sigv4Headers(accessKeyId = 'AKIDEXAMPLE', service = 'ec2'): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20240101T000000Z',
  };
}

/** GET `/?<query>&Version=2016-11-15`, the form the EC2 API reference writes its sample requests in. */
export async function rawGet(endpoint: string, query: string, headers: Record<string, string> = sigv4Headers()): Promise<{ status: number; body: string }> {
  const res = await fetch(`${endpoint}/?${query}&Version=2016-11-15`, { headers });
  return { status: res.status, body: await res.text() };
}

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/** now() moves only by advance(); sleep() advances the clock and resolves at once. */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => { t += ms; },
    advance: (ms) => { t += ms; },
  };
}

/** Drops the request id, which differs on every answer. */
export function withoutRequestId(xml: string): string {
  return xml.replace(/<requestId>[^<]*<\/requestId>/, '<requestId/>').replace(/<RequestID>[^<]*<\/RequestID>/, '<RequestID/>');
}
