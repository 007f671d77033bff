// How sensitive a collection is, and why: a label configured for its name, else one for the longest
// matching `prefix*`, else the most sensitive word of its name among the sensitivity patterns, else
// the default. The reason goes into explanations, so an analyst sees whether a person said so or a
// name pattern guessed it.
import type { Sensitivity } from '../../src/config/index.js';

export interface SensitivityJudgement {
  readonly level: Sensitivity;
  /** Why, as a phrase for an explanation: `labelled in the configuration`, … */
  readonly reason: string;
}

export interface SensitivityConfig {
  readonly default_sensitivity: Sensitivity;
  /** Labels by collection name; a key ending in `*` matches a prefix. */
  readonly collections: Readonly<Record<string, { readonly sensitivity: Sensitivity }>>;
  /** Levels by name word (lowercase letters and digits). */
  readonly sensitivity_patterns: Readonly<Record<string, Sensitivity>>;
}

const RANK: Record<Sensitivity, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/**
 * The words of a collection name, lowercase: split at anything but letters and digits and at
 * lower-to-upper case changes (`customer_pii`, `hr-docs`, `PayrollData` → customer pii, hr docs,
 * payroll data).
 */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * A word matches a pattern when it is the pattern, its plural (`s`, `es`) or the pattern followed
 * by digits (`hr2026`): `hr` matches hr_docs, not hrefs or chrome.
 */
export function wordMatches(word: string, pattern: string): boolean {
  if (!word.startsWith(pattern)) return false;
  const rest = word.slice(pattern.length);
  return rest === '' || rest === 's' || rest === 'es' || /^[0-9]+$/.test(rest);
}

export function sensitivityJudge(config: SensitivityConfig): (collection: string) => SensitivityJudgement {
  const exact = new Map<string, Sensitivity>();
  const prefixes: Array<[string, Sensitivity]> = [];
  for (const [key, { sensitivity }] of Object.entries(config.collections)) {
    if (key.endsWith('*')) prefixes.push([key.slice(0, -1), sensitivity]);
    else exact.set(key, sensitivity);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  const patterns = Object.entries(config.sensitivity_patterns);
  return (collection) => {
    const labelled = exact.get(collection);
    if (labelled) return { level: labelled, reason: 'labelled in the configuration' };
    const prefix = prefixes.find(([p]) => collection.startsWith(p));
    if (prefix) return { level: prefix[1], reason: `labelled in the configuration as ${prefix[0]}*` };
    let best: [string, Sensitivity] | undefined;
    for (const word of nameWords(collection))
      for (const [pattern, level] of patterns)
        if (wordMatches(word, pattern) && (!best || RANK[level] > RANK[best[1]])) best = [pattern, level];
    if (best) return { level: best[1], reason: `its name matches the sensitivity pattern "${best[0]}"` };
    return {
      level: config.default_sensitivity,
      reason: 'the default for a collection without a label or a sensitive word in its name',
    };
  };
}
