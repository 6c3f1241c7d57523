/** Every role a caller's `groups` claim may carry. */
export const roles = [
  'sales',
  'purchasing',
  'warehouse',
  'finance',
  'customer-relations',
  'supervisor',
] as const;

export type Role = (typeof roles)[number];
