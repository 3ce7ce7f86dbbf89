/** Shapes of the API answers the system tests read (the contract checker validates them in full). */
export interface User {
  id: string;
  name: string;
  email: string;
  age: number | null;
  created_at: string;
}

export interface OrderItem {
  product_id: string;
  product_name: string;
  quantity: number;
  price: number;
}

export interface Order {
  id: string;
  user_id: string;
  items: OrderItem[];
  shipping_address: string;
  total_amount: number;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  request_id?: string;
}

export interface Readiness {
  status: 'ready' | 'degraded' | 'not_ready';
  draining: boolean;
  dependencies: Record<string, 'healthy' | 'unhealthy'>;
}

/** The seed's example user. */
export const exampleUser = { name: 'John Doe', email: 'john.doe@example.com', age: 30 } as const;

/** The seed's example order for `userId`: one laptop at 999.99. */
export const exampleOrder = (userId: string) => ({
  user_id: userId,
  items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
  shipping_address: '123 Main St, City, Country',
});

/**
 * Small resilience settings so outages resolve in well under a second: 300 ms per attempt, 800 ms in all,
 * two retries, the breaker opens after three failed attempts and half-opens after 500 ms.
 */
export const FAST_RESILIENCE = {
  USER_SERVICE_TIMEOUT_MS: '300',
  USER_SERVICE_DEADLINE_MS: '800',
  USER_SERVICE_RETRIES: '2',
  USER_SERVICE_BREAKER_THRESHOLD: '3',
  USER_SERVICE_BREAKER_HALF_OPEN_MS: '500',
  LOG_LEVEL: 'info',
} as const;

export const DEADLINE_MS = Number(FAST_RESILIENCE.USER_SERVICE_DEADLINE_MS);
export const ATTEMPT_TIMEOUT_MS = Number(FAST_RESILIENCE.USER_SERVICE_TIMEOUT_MS);
