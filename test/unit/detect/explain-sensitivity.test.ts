// Every finding about a collection says how sensitive it is and why, in the judgement the risk
// engine weighs it by; findings without a collection are left as the detector wrote them.
import { describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../../src/config/pipeline.js';
import type { AnyDetector } from '../../../src/detect/detector.js';
import { sensitivityExplainer } from '../../../src/detect/explain-sensitivity.js';
import {
  collectionSensitivity,
  detectorRuntimeOptions,
  riskEngineOptions,
} from '../../../src/detect/risk-options.js';
import { createDetectorRuntime } from '../../../src/detect/runtime.js';
import type { Finding } from '../../../src/model/index.js';
import { makeEvent, makeFinding } from '../../helpers/factories.js';

const pipeline = pipelineSchema.parse({
  version: 1,
  response: { collections: { kb_public: 'low', 'vault-*': 'critical' }, default_sensitivity: 'medium' },
});

/** A finding whose sentence is known, about no collection unless told. */
const finding = (over: Partial<Finding>): Finding =>
  makeFinding({ sentence: 'usr_x did something unusual.', collection: '', ...over });

describe('sensitivityExplainer', () => {
  const explain = sensitivityExplainer(collectionSensitivity(pipeline));

  it('says a labelled, a prefix-labelled, a pattern-matched and a default collection apart', () => {
    const cases: Array<[string, string]> = [
      ['kb_public', 'kb_public is low-sensitivity (labelled in the configuration).'],
      ['vault-keys', 'vault-keys is critical-sensitivity (labelled in the configuration as vault-*).'],
      ['hr_docs', 'hr_docs is high-sensitivity (its name matches the sensitivity pattern "hr").'],
      [
        'wiki',
        'wiki is medium-sensitivity (the default for a collection without a label or a sensitive word in its name).',
      ],
    ];
    for (const [collection, said] of cases)
      expect(explain(finding({ collection })).sentence).toBe(`usr_x did something unusual. ${said}`);
  });

  it('weighs as it says: the risk engine judges each collection the same way', () => {
    const judge = riskEngineOptions(pipeline).sensitivityOf!;
    for (const c of ['kb_public', 'vault-keys', 'hr_docs', 'wiki', 'Payroll2026'])
      expect(explain(finding({ collection: c })).sentence).toContain(
        `${c} is ${judge(c).level}-sensitivity (${judge(c).reason}).`,
      );
  });

  it('leaves a finding without a collection as it was, and never changes its input', () => {
    const none = finding({});
    expect(explain(none)).toBe(none);
    const input = finding({ collection: 'hr_docs', sentence: 'no full stop' });
    const out = explain(input);
    expect(out.sentence).toBe(
      'no full stop. hr_docs is high-sensitivity (its name matches the sensitivity pattern "hr").',
    );
    expect(input.sentence).toBe('no full stop');
  });
});

describe('the runtime explains every detector’s findings, not only the ones that know about sensitivity', () => {
  // A detector that knows nothing of sensitivity: it fires on every scroll.
  const scrolls: AnyDetector = {
    name: 'every-scroll',
    entityKey: (e) => `${e.tenant}\u0000${e.actor}`,
    initState: () => ({}),
    observe: (_s, e) =>
      e.operation === 'scroll'
        ? [
            finding({
              finding_id: e.event_id,
              detector: 'every-scroll',
              collection: e.collection,
              actor: e.actor,
            }),
          ]
        : [],
  };

  it('with the pipeline’s options, each finding ends with its collection’s sensitivity', () => {
    const runtime = createDetectorRuntime([scrolls], detectorRuntimeOptions(pipeline));
    const out = runtime.process([
      makeEvent({ operation: 'scroll', collection: 'finance_ledger' }),
      makeEvent({ operation: 'search', collection: 'hr_docs' }),
      makeEvent({ operation: 'scroll', collection: 'kb_public' }),
    ]);
    expect(out.map((f) => f.sentence)).toEqual([
      'usr_x did something unusual. finance_ledger is high-sensitivity (its name matches the sensitivity pattern "finance").',
      'usr_x did something unusual. kb_public is low-sensitivity (labelled in the configuration).',
    ]);
  });

  it('without them, findings are as the detector wrote them', () => {
    const out = createDetectorRuntime([scrolls]).process([
      makeEvent({ operation: 'scroll', collection: 'hr_docs' }),
    ]);
    expect(out[0]!.sentence).toBe('usr_x did something unusual.');
  });
});
