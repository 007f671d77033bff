// The verification report as text, for the CLI.
import type { VerifyReport } from './verify.js';

/** One line per table, then one per problem. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const t of report.tables) {
    const pending = t.pending ? `, ${t.pending} pending until the next start` : '';
    lines.push(
      `${t.table}: ${t.intact ? 'intact' : 'TAMPERED'} (${t.batches} batches, ${t.rows} rows${pending})`,
    );
    for (const p of t.problems)
      lines.push(`  ${p.kind}${p.batch !== undefined ? ` batch ${p.batch}` : ''}: ${p.detail}`);
  }
  lines.push(report.intact ? 'audit trail intact' : 'audit trail NOT intact');
  return lines.join('\n');
}
