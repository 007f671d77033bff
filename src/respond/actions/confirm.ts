// What the containment adapters share about confirming an effect: a subject the target does not
// know is a failure that names it (by token) — never "already done" — unless an earlier attempt
// whose outcome is unknown may have done the work, and a read-back that still shows the effect
// missing is retried (the target may apply it asynchronously) until the attempts run out.
import { PermanentError, RetriableError } from '../../model/index.js';

/** The first attempt found no such subject: a wrong subject, not a finished containment. */
export function noSuchSubject(what: string, noun: string, subjectRef: string): PermanentError {
  return Object.assign(new PermanentError(`${what}: no such ${noun} <${subjectRef}>`), { status: 404 });
}

/** The call was accepted but the read-back does not show its effect (yet). */
export function notYetConfirmed(what: string, seen: string, subjectRef: string): RetriableError {
  return new RetriableError(`${what}: accepted, but reading back <${subjectRef}> ${seen}`);
}
