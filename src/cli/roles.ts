// The roles a vigil process can run (`vigil serve --roles`), apart from the wiring that starts them
// so that the command line can name them without loading it.
export const ALL_ROLES = ['collector', 'store', 'detect', 'respond', 'export'] as const;
export type Role = (typeof ALL_ROLES)[number];
