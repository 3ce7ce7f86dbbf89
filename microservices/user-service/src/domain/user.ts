import { z } from '@hono/zod-openapi';
import { plainString } from '@microservices/service-kit';

const name = plainString().trim().min(1, 'must not be empty').max(200).openapi({ example: 'John Doe' });
const email = z
  .email('must be a valid email address')
  .max(254)
  .openapi({ example: 'john.doe@example.com', description: 'Unique, compared case-insensitively' });
const age = z.number().int().min(0).max(150).nullable().openapi({ example: 30 });

export const UserSchema = z
  .object({
    id: z.string().openapi({ example: '3f0c2d3e-5a4b-4c1d-9e8f-7a6b5c4d3e2f' }),
    name,
    email,
    age,
    created_at: z.iso.datetime().openapi({ example: '2026-01-01T12:00:00.000Z' }),
  })
  .openapi('User');

export const CreateUserSchema = z
  .strictObject({ name, email, age: age.optional() })
  .openapi('CreateUser', { example: { name: 'John Doe', email: 'john.doe@example.com', age: 30 } });

export const UpdateUserSchema = z
  .strictObject({ name: name.optional(), email: email.optional(), age: age.optional() })
  .openapi('UpdateUser', { example: { age: 31 } });

export type User = z.infer<typeof UserSchema>;
export type CreateUser = z.infer<typeof CreateUserSchema>;
export type UpdateUser = z.infer<typeof UpdateUserSchema>;

/** The key uniqueness is enforced on: emails differing only in case are the same address to a person. */
export const emailKey = (address: string) => address.toLowerCase();
