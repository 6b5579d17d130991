import type { Role } from './api';

export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as string[]).includes(value);
}

/** Whether `role` may do what needs `needed` (viewer < operator < admin). */
export function may(role: Role | null | undefined, needed: Role): boolean {
  if (!role) return false;
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
