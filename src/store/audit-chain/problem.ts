// What verification reports: one problem per batch (or table) found wrong.

export type ProblemKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'chain-broken'
  | 'record-modified'
  | 'mac-invalid'
  | 'head-mismatch'
  | 'head-missing';

export interface Problem {
  readonly table: string;
  readonly kind: ProblemKind;
  /** The batch concerned (its sequence number in the chain), when one is. */
  readonly batch?: number;
  readonly rows?: number;
  readonly detail: string;
}
