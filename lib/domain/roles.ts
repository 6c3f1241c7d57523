import * as z from 'zod/mini';

/** Every role a caller's `groups` claim may carry. */
export const roles = [
  'sales',
  'purchasing',
  'warehouse',
  'finance',
  'customer-relations',
  'supervisor',
] as const;

export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;
