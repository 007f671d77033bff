// Every finding about a collection says how sensitive that collection is and why (a label in the
// configuration or a name pattern), in the pipeline-wide judgement the risk engine weighs it by
// (risk-options.ts `collectionSensitivity`): detectors do not each repeat it, the runtime adds it.
import type { Finding } from '../model/index.js';
import type { SensitivityOf } from './risk.js';

/** A finding with the sensitivity of its collection stated at the end of its sentence. */
export type FindingExplainer = (finding: Finding) => Finding;

export function sensitivityExplainer(sensitivityOf: SensitivityOf): FindingExplainer {
  return (f) => {
    if (!f.collection) return f;
    const s = sensitivityOf(f.collection);
    const said = `${f.collection} is ${s.level}-sensitivity (${s.reason}).`;
    const sentence = f.sentence.endsWith('.') || f.sentence === '' ? f.sentence : `${f.sentence}.`;
    return { ...f, sentence: sentence ? `${sentence} ${said}` : said };
  };
}
