// What happens to findings after detectors: suppression rules from the pipeline and analysts'
// feedback. A suppressed finding is still stored (with the reason) but never acted on. A
// false-positive mark raises the bar for that detector × entity: until it expires, a finding is
// suppressed unless it is clearly bigger (1.5× the observed value that was marked).
import type { SuppressionRule } from '../config/index.js';
import type { Finding } from '../model/index.js';

export type FeedbackLabel = 'false-positive' | 'true-positive';

export interface Feedback {
  readonly finding_id: string;
  readonly tenant: string;
  readonly detector: string;
  readonly entity: string;
  readonly label: FeedbackLabel;
  readonly observed: number;
  readonly time: number;
}

/** Findings above a marked false positive by this factor are treated as news again. */
export const FEEDBACK_ESCALATION = 1.5;

export interface FindingFilter {
  apply(findings: Finding[], now: number): Finding[];
  addFeedback(entries: Feedback[]): void;
}

export function ruleMatches(rule: SuppressionRule, f: Finding, now: number): boolean {
  if (rule.detector && rule.detector !== f.detector) return false;
  if (rule.entity && rule.entity !== f.entity && rule.entity !== f.actor) return false;
  if (rule.collection && rule.collection !== f.collection) return false;
  if (rule.tenant && rule.tenant !== f.tenant) return false;
  if (rule.from !== undefined && f.event_time < rule.from) return false;
  if (rule.until !== undefined && f.event_time >= rule.until) return false;
  void now;
  return true;
}

export function createFindingFilter(rules: readonly SuppressionRule[], feedbackTtlMs: number): FindingFilter {
  /** detector × tenant × entity → the largest observed value marked false-positive, and when. */
  const falsePositives = new Map<string, { observed: number; time: number }>();
  const key = (detector: string, tenant: string, entity: string) =>
    `${detector}\u0000${tenant}\u0000${entity}`;
  return {
    addFeedback(entries) {
      for (const e of entries) {
        const k = key(e.detector, e.tenant, e.entity);
        if (e.label === 'true-positive') {
          falsePositives.delete(k);
          continue;
        }
        const prev = falsePositives.get(k);
        if (!prev || e.observed >= prev.observed)
          falsePositives.set(k, { observed: e.observed, time: e.time });
      }
    },
    apply(findings, now) {
      return findings.map((f) => {
        const rule = rules.find((r) => ruleMatches(r, f, now));
        if (rule) return { ...f, suppressed: `rule: ${rule.reason}` };
        const fp = falsePositives.get(key(f.detector, f.tenant, f.entity));
        if (fp && now - fp.time <= feedbackTtlMs && f.observed < fp.observed * FEEDBACK_ESCALATION) {
          return {
            ...f,
            suppressed: `feedback: like a finding marked false-positive (observed ${Math.round(fp.observed)})`,
          };
        }
        return f;
      });
    },
  };
}
