/**
 * JSON schema pieces shared by the routes. Every object schema refuses unknown properties, every string has a
 * maximum length, every id has its prefix and shape.
 */
import type { IdPrefix } from '../store/ids';

export type JsonSchema = Record<string, unknown>;

export function idSchema(prefix: IdPrefix): JsonSchema {
  return { type: 'string', pattern: `^${prefix}[a-z2-7]{20}$`, maxLength: 40 };
}

export function object(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: 'object', additionalProperties: false, properties, required };
}

export function text(maxLength: number, minLength = 0): JsonSchema {
  return { type: 'string', maxLength, minLength };
}

/** A name people read: 1 to 100 characters, not only spaces. */
export const nameSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' };
export const emailSchema: JsonSchema = { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' };
export const passwordSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: 1024 };
export const roleSchema: JsonSchema = { type: 'string', enum: ['admin', 'member'] };
export const timeSchema: JsonSchema = { type: 'string', format: 'date-time', maxLength: 40 };
export const booleanSchema: JsonSchema = { type: 'boolean' };

export const pageQueryProperties: Record<string, JsonSchema> = {
  limit: { type: 'integer', minimum: 1, maximum: 500 },
  cursor: { type: 'string', minLength: 1, maxLength: 1024 },
};

/** The answer of a route that answers 204: no body (so the OpenAPI document promises none). */
export const noContentResponse = Object.freeze({ 204: { description: 'done; no body', type: 'null' } });

export function idParams(name: string, prefix: IdPrefix): JsonSchema {
  return object({ [name]: idSchema(prefix) }, [name]);
}
