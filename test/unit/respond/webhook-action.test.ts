// Standard Webhooks signing: headers a receiver verifies with the standardwebhooks library,
// during secret rotation with either secret.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signHeaders, type WebhookTarget } from '../../../src/respond/actions/webhook.action.js';

const secretA = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const secretB = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const secretC = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const body = JSON.stringify({ type: 'vigil.incident', incident: { id: 'inc-1' } });

function target(secrets: string[]): WebhookTarget {
  return { url: 'http://127.0.0.1:1/hook', secrets, timeoutMs: 1000 };
}

describe('signHeaders', () => {
  it('produces headers the standardwebhooks verifier accepts', () => {
    const headers = signHeaders(target([secretA]), 'msg-1', body);
    expect(new Webhook(secretA).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('sets the id, the timestamp in seconds and the content type', () => {
    const at = new Date(Date.UTC(2026, 10, 2, 10, 0, 0, 999));
    const headers = signHeaders(target([secretA]), 'msg-1', body, at);
    expect(headers['webhook-id']).toBe('msg-1');
    expect(headers['webhook-timestamp']).toBe(String(Date.UTC(2026, 10, 2, 10, 0, 0) / 1000));
    expect(headers['content-type']).toBe('application/json');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('signs with every secret during rotation, and each verifies on its own', () => {
    const headers = signHeaders(target([secretA, secretB]), 'msg-2', body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(secretA).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(secretB).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('is rejected under a secret that did not sign', () => {
    const headers = signHeaders(target([secretA, secretB]), 'msg-3', body);
    expect(() => new Webhook(secretC).verify(body, headers)).toThrow();
  });

  it('is rejected when the body or the id was changed', () => {
    const headers = signHeaders(target([secretA]), 'msg-4', body);
    expect(() => new Webhook(secretA).verify(body.replace('inc-1', 'inc-2'), headers)).toThrow();
    expect(() => new Webhook(secretA).verify(body, { ...headers, 'webhook-id': 'msg-5' })).toThrow();
  });

  it('is rejected when the timestamp is too old (replay)', () => {
    const old = new Date(Date.now() - 60 * 60_000);
    const headers = signHeaders(target([secretA]), 'msg-6', body, old);
    expect(() => new Webhook(secretA).verify(body, headers)).toThrow();
  });

  it('keeps the message id stable across attempts while the signature follows the timestamp', () => {
    const t = target([secretA]);
    const a = signHeaders(t, 'msg-7', body, new Date(Date.UTC(2026, 10, 2, 10)));
    const b = signHeaders(t, 'msg-7', body, new Date(Date.UTC(2026, 10, 2, 10, 0, 5)));
    expect(a['webhook-id']).toBe(b['webhook-id']);
    expect(a['webhook-signature']).not.toBe(b['webhook-signature']);
  });
});
