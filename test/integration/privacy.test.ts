// Privacy over real HTTP and the real store: the encrypted vault and audited re-identification,
// role checks on the admin API, and a key rotation that keeps identities' baselines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREVIOUS_TOKEN_ATTRIBUTES } from '../../src/model/index.js';
import { listAudit } from '../../src/store/index.js';
import { makeGenericEvent } from '../helpers/factories.js';
import { uniqueName } from '../helpers/services.js';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';
import { waitFor } from '../helpers/wait.js';
import { testTime } from '../helpers/clock.js';

const ADMIN = 'admin-token-for-privacy-tests';
const ANALYST = 'analyst-token-for-privacy-tests';

describe('vault, re-identification and key rotation', () => {
  let v: TestVigil;
  beforeAll(async () => {
    v = await startTestVigil({
      env: { VIGIL_VAULT_ENABLED: 'true', VIGIL_ADMIN_TOKEN: ADMIN, VIGIL_ANALYST_TOKEN: ANALYST },
    });
  });
  afterAll(async () => v?.stop());

  const admin = (route: string, token: string, body?: unknown) =>
    fetch(`${v.app.adminUrl}${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('re-identifies a token for an admin, refuses an analyst, and audits every call', async () => {
    const tenant = uniqueName('vault');
    expect(
      (await v.post([makeGenericEvent({ tenant, user: 'erin.vault@example.org', src_ip: '198.51.100.23' })]))
        .status,
    ).toBe(200);
    const token = v.app.tokenizer.token('actor', tenant, 'erin.vault@example.org', 'user');

    const denied = await admin('/v1/reidentify', ANALYST, { token, reason: 'incident review' });
    expect(denied.status).toBe(403);
    // Analysts still read.
    expect((await admin('/v1/findings', ANALYST)).status).toBe(200);

    const res = await admin('/v1/reidentify', ADMIN, { token, reason: 'incident 42: contain the key' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      found: true,
      kind: 'actor',
      tenant,
      value: 'erin.vault@example.org',
    });

    const missing = await admin('/v1/reidentify', ADMIN, {
      token: 'usr_k1_AAAAAAAAAAAAAAAAAAAAAA',
      reason: 'checking',
    });
    expect(missing.status).toBe(404);
    const noReason = await admin('/v1/reidentify', ADMIN, { token });
    expect(noReason.status).toBe(400);

    const audit = await listAudit(v.app.store.client);
    const mine = audit.filter((a) => a.action === 'reidentify');
    expect(mine.map((a) => a.outcome).sort()).toEqual(['not_found', 'revealed']);
    expect(mine.find((a) => a.outcome === 'revealed')).toMatchObject({
      target: token,
      reason: 'incident 42: contain the key',
    });
    expect(mine.every((a) => a.caller.startsWith('admin:') && !a.caller.includes(ADMIN))).toBe(true);

    // The vault holds ciphertext only.
    const sealed = JSON.stringify(await v.app.store.client.query('SELECT sealed FROM vault'));
    expect(sealed).not.toContain('erin.vault');
    expect(sealed).not.toContain('198.51.100.23');
  });

  it('rotates the tokenization key in place and carries the identity baseline over', async () => {
    const tenant = uniqueName('rotate');
    const user = 'frank.rotate@example.org';
    const before = v.app.tokenizer.token('actor', tenant, user, 'user');
    expect((await v.post([makeGenericEvent({ tenant, user })])).status).toBe(200);
    const entitiesBefore = v.app.runtime!.entities()['volume-spike'];

    const rotated = await admin('/v1/keys/rotate', ADMIN, {});
    expect(rotated.status).toBe(200);
    const { version } = (await rotated.json()) as { version: number };
    expect(version).toBe(2);
    expect((await admin('/v1/keys/rotate', ANALYST, {})).status).toBe(403);

    const detectedBefore = v.app.metrics.counter('detect_events');
    expect(
      (await v.post([makeGenericEvent({ tenant, user, time: new Date(testTime(0, 10, 5)).toISOString() })]))
        .status,
    ).toBe(200);
    const after = v.app.tokenizer.token('actor', tenant, user, 'user');
    expect(after).not.toBe(before);
    expect(after.startsWith('usr_k2_')).toBe(true);
    const rows = await v.app.store.client.query<{ actor: string; attributes: Record<string, string> }>(
      'SELECT actor, attributes FROM events WHERE tenant = {t:String} ORDER BY time',
      { t: tenant },
    );
    expect(rows.map((r) => r.actor)).toEqual([before, after]);
    expect(rows[1]!.attributes[PREVIOUS_TOKEN_ATTRIBUTES.actor]).toBe(before);
    // Same identity, same state: the detector did not start a second, cold baseline.
    await waitFor(
      () => v.app.metrics.counter('detect_events'),
      (n) => n > detectedBefore,
      { what: 'the event detected' },
    );
    expect(v.app.runtime!.entities()['volume-spike']).toBe(entitiesBefore);
  });
});
