/** Turns Ajv's validation errors into one sentence that names the field, e.g. `body.name: must NOT be empty`. */
import type { FastifySchemaValidationError } from 'fastify/types/schema';

export function validationMessage(errors: FastifySchemaValidationError[], context: string | undefined): string {
  const first = errors[0];
  if (!first) return 'the request is not valid';
  const where = context ?? 'request';
  const path = first.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'required') return `${[where, ...path, String(params.missingProperty)].join('.')}: is required`;
  if (first.keyword === 'additionalProperties') {
    return `${[where, ...path, String(params.additionalProperty)].join('.')}: is not a known field`;
  }
  const field = [where, ...path].join('.');
  if (first.keyword === 'pattern' && /id$/i.test(path[path.length - 1] ?? '')) return `${field}: is not a valid id`;
  if (first.keyword === 'pattern') return `${field}: has an invalid format`;
  if (first.keyword === 'enum') return `${field}: must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
  return `${field}: ${first.message ?? 'is not valid'}`;
}
