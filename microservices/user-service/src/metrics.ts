import { Counter, type Registry } from 'prom-client';

export interface UserMetrics {
  usersCreated: Counter;
  usersDeleted: Counter;
}

export function createUserMetrics(registry: Registry): UserMetrics {
  return {
    usersCreated: new Counter({ name: 'users_created_total', help: 'Users created.', registers: [registry] }),
    usersDeleted: new Counter({ name: 'users_deleted_total', help: 'Users deleted.', registers: [registry] }),
  };
}
