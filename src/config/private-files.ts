// What vigil writes to disk is its owner's only: directories 0700, files 0600. The data directory
// holds the tokenization and chain keys, the embedded store and the chain heads; a log or an
// export file holds tokens. The CLI sets the process umask to PRIVATE_UMASK before anything is
// created (the embedded engine makes its own files, out of our reach); files vigil opens itself
// are created with PRIVATE_FILE_MODE, and the directories it owns are created and re-checked here,
// so one left 0755 by an older version is tightened. A file the operator made beforehand (a log
// file a shipper reads) keeps the mode they gave it.
import { chmodSync, mkdirSync, statSync } from 'node:fs';

/** No group or other bits on anything the process creates. */
export const PRIVATE_UMASK = 0o077;

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) as 0700, and brings an existing one to 0700. A directory
 * that others can reach and this user cannot tighten refuses to start, naming `what`.
 */
export function ensurePrivateDir(dir: string, what: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if ((statSync(dir).mode & 0o777) === PRIVATE_DIR_MODE) return;
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (err) {
    if ((statSync(dir).mode & 0o077) !== 0)
      throw new Error(
        `${what} (${dir}) is open to other users and cannot be made private (${(err as NodeJS.ErrnoException).code}): chmod 700 it`,
      );
  }
}
