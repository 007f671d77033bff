// How vigil names itself in exported records.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../config/index.js';

export const PRODUCT_NAME = 'vigil';
export const VENDOR_NAME = 'vigil';

let version: string | undefined;

/** The installed package's version (read once). */
export function productVersion(): string {
  version ??= (
    JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
  return version;
}
