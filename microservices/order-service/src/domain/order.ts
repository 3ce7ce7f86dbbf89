import { z } from '@hono/zod-openapi';
import { plainString, resourceId } from '@microservices/service-kit';
import { hasAtMostTwoDecimals } from './money.js';
import { ORDER_STATUSES } from './order-status.js';

/** Upper bounds keep every total an exact safe integer of cents (100 × 10,000 × 10^8 cents < 2^53). */
export const MAX_ITEMS = 100;
export const MAX_QUANTITY = 10_000;
export const MAX_PRICE = 1_000_000;

const id = resourceId();

export const OrderItemSchema = z
  .strictObject({
    product_id: plainString().trim().min(1).max(128).openapi({ example: 'prod-1' }),
    product_name: plainString().trim().min(1).max(500).openapi({ example: 'Laptop' }),
    quantity: z.number().int().min(1).max(MAX_QUANTITY).openapi({ example: 1 }),
    price: z
      .number()
      .min(0)
      .max(MAX_PRICE)
      .refine(hasAtMostTwoDecimals, 'must have at most two decimals')
      .openapi({ example: 999.99, description: 'Unit price, at most two decimals' }),
  })
  .openapi('OrderItem');

export const OrderStatusSchema = z.enum(ORDER_STATUSES).openapi('OrderStatus');

const shippingAddress = plainString()
  .trim()
  .min(1)
  .max(1000)
  .openapi({ example: '123 Main St, City, Country' });

export const OrderSchema = z
  .object({
    id: id.openapi({ example: '9b2f6c1e-0d4a-4e8b-a1c3-5f7e9d2b4a60' }),
    user_id: id.openapi({ example: '3f0c2d3e-5a4b-4c1d-9e8f-7a6b5c4d3e2f' }),
    items: z.array(OrderItemSchema),
    shipping_address: shippingAddress,
    total_amount: z
      .number()
      .openapi({ example: 999.99, description: 'Σ price × quantity, exact to the cent' }),
    status: OrderStatusSchema,
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Order');

export const CreateOrderSchema = z
  .strictObject({
    user_id: id.openapi({ example: '3f0c2d3e-5a4b-4c1d-9e8f-7a6b5c4d3e2f' }),
    items: z.array(OrderItemSchema).min(1, 'an order needs at least one item').max(MAX_ITEMS),
    shipping_address: shippingAddress,
  })
  .openapi('CreateOrder', {
    example: {
      user_id: '3f0c2d3e-5a4b-4c1d-9e8f-7a6b5c4d3e2f',
      items: [{ product_id: 'prod-1', product_name: 'Laptop', quantity: 1, price: 999.99 }],
      shipping_address: '123 Main St, City, Country',
    },
  });

export const UpdateOrderSchema = z
  .strictObject({ status: OrderStatusSchema.optional(), shipping_address: shippingAddress.optional() })
  .openapi('UpdateOrder', { example: { status: 'confirmed' } });

export type Order = z.infer<typeof OrderSchema>;
export type OrderItem = z.infer<typeof OrderItemSchema>;
export type CreateOrder = z.infer<typeof CreateOrderSchema>;
export type UpdateOrder = z.infer<typeof UpdateOrderSchema>;
