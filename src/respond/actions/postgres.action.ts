// PostgreSQL (pgvector) containment: lock the role (NOLOGIN blocks only new connections), then end
// its live sessions with pg_terminate_backend; optionally revoke its memberships. A role shared by
// a pool or a gateway is never locked (that locks everyone behind it): the action escalates.
// Undo lets the role log in again and gives back the memberships that were taken.
import pg from 'pg';
import type { TargetConfigOf } from '../../config/index.js';
import { PermanentError, RetriableError } from '../../model/index.js';
import type { ActionContext, ActionResult, UndoContext } from './types.js';

export type PostgresTarget = TargetConfigOf<'postgres'> & {
  /** Connection URL of the administering role (from `url_env`). */
  readonly url: string;
};

export const containment = true;

export function plan(t: PostgresTarget, subjectToken: string): string {
  const steps = [`ALTER ROLE <${subjectToken}> NOLOGIN`];
  if (t.terminate) steps.push(`pg_terminate_backend(pid, ${t.terminate_timeout}) for its sessions`);
  if (t.revoke_memberships) steps.push('REVOKE its role memberships');
  return `${steps.join('; ')} (escalated instead when the role is shared or a superuser)`;
}

// SQLSTATE classes worth retrying: connection exceptions, transaction rollbacks (serialization,
// deadlock), insufficient resources, operator intervention (admin shutdown, cannot connect now).
const RETRIABLE_CLASSES = ['08', '40', '53', '57', '58'];
const NETWORK_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
];

function classify(what: string, err: unknown): Error {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const message = `postgres ${what}: ${e.message ?? String(err)}${code ? ` (${code})` : ''}`;
  const sqlstate = !NETWORK_CODES.includes(code) && /^[0-9A-Z]{5}$/.test(code);
  const retriable = sqlstate
    ? RETRIABLE_CLASSES.includes(code.slice(0, 2))
    : // No SQLSTATE: the connection itself failed (refused, reset, timed out, ended by the server).
      NETWORK_CODES.includes(code) || /timeout|terminated|ended unexpectedly/i.test(e.message ?? '');
  return retriable ? new RetriableError(message) : new PermanentError(message);
}

async function withClient<T>(t: PostgresTarget, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: t.url,
    connectionTimeoutMillis: t.timeout,
    statement_timeout: t.timeout + t.terminate_timeout,
    application_name: 'vigil-responder',
  });
  // A connection error after connect would otherwise be an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classify('connect', err);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolcanlogin: boolean;
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw classify(what, err);
  }
}

export async function execute(ctx: ActionContext<PostgresTarget>): Promise<ActionResult> {
  const t = ctx.target;
  const role = ctx.subject;
  if (t.shared_roles.includes(role)) {
    return {
      outcome: 'escalated',
      detail:
        'role is on the shared-roles list (a pool or gateway): locking it would lock out everyone behind it',
    };
  }
  return withClient(t, async (c) => {
    const found = await step('look up role', () =>
      c.query<RoleRow>('SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = $1', [role]),
    );
    const row = found.rows[0];
    if (!row) throw new PermanentError(`postgres: no such role <${ctx.subjectRef}>`);
    if (row.rolsuper && t.escalate_superusers)
      return { outcome: 'escalated', detail: 'role is a superuser: not locked automatically' };
    const ident = c.escapeIdentifier(role);
    // Lock first: a session ended before the lock could reconnect in between.
    await step('lock role', () => c.query(`ALTER ROLE ${ident} NOLOGIN`));
    const revoked: string[] = [];
    if (t.revoke_memberships) {
      const groups = await step('list memberships', () =>
        c.query<{ rolname: string }>(
          `SELECT g.rolname FROM pg_auth_members m
             JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
           WHERE u.rolname = $1 ORDER BY g.rolname`,
          [role],
        ),
      );
      for (const { rolname } of groups.rows) {
        await step('revoke membership', () => c.query(`REVOKE ${c.escapeIdentifier(rolname)} FROM ${ident}`));
        revoked.push(rolname);
      }
    }
    let terminated = 0;
    if (t.terminate) {
      const killed = await step('terminate sessions', () =>
        c.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid, $2::bigint) AS ok FROM pg_stat_activity
           WHERE usename = $1 AND pid <> pg_backend_pid()`,
          [role, t.terminate_timeout],
        ),
      );
      terminated = killed.rows.filter((r) => r.ok).length;
      if (killed.rows.length > terminated)
        // A backend that outlived the timeout still runs: retry, the role stays locked meanwhile.
        throw new RetriableError(
          `postgres: ${killed.rows.length - terminated} session(s) did not end within ${t.terminate_timeout} ms`,
        );
    }
    // Read the lock back: the containment counts only once the catalogue says the role cannot log in.
    const back = await step('read back role', () =>
      c.query<RoleRow>('SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = $1', [role]),
    );
    if (back.rows[0]?.rolcanlogin !== false)
      throw new RetriableError(`postgres: role <${ctx.subjectRef}> still has LOGIN after ALTER ROLE`);
    const parts = [row.rolcanlogin ? 'role locked (NOLOGIN)' : 'role was already NOLOGIN'];
    if (t.terminate) parts.push(`${terminated} session(s) terminated`);
    if (t.revoke_memberships) parts.push(`${revoked.length} membership(s) revoked`);
    return {
      outcome: 'succeeded',
      confirmation: 'confirmed',
      detail: `${parts.join('; ')}; read back NOLOGIN`,
      state: { could_login: row.rolcanlogin, revoked_memberships: revoked },
    };
  });
}

export async function undo(ctx: UndoContext<PostgresTarget>): Promise<ActionResult> {
  const role = ctx.subject;
  const couldLogin = ctx.state?.could_login !== false;
  const memberships = Array.isArray(ctx.state?.revoked_memberships)
    ? (ctx.state.revoked_memberships as unknown[]).filter((m): m is string => typeof m === 'string')
    : [];
  return withClient(ctx.target, async (c) => {
    const ident = c.escapeIdentifier(role);
    const found = await step('look up role', () =>
      c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]),
    );
    if (found.rowCount === 0) throw new PermanentError('postgres: no such role');
    // A role that could not log in before vigil touched it stays as it was.
    if (couldLogin) await step('unlock role', () => c.query(`ALTER ROLE ${ident} LOGIN`));
    for (const g of memberships)
      await step('grant membership', () => c.query(`GRANT ${c.escapeIdentifier(g)} TO ${ident}`));
    const parts = [couldLogin ? 'role unlocked (LOGIN)' : 'role left NOLOGIN (it was before containment)'];
    if (memberships.length) parts.push(`${memberships.length} membership(s) granted back`);
    return { outcome: 'succeeded', detail: parts.join('; ') };
  });
}
