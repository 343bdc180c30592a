/**
 * Every error leaves as `{ error: { code, message } }` with the status of its code. Messages of unexpected
 * errors stay in the log: the client gets `internal_error` without internals. Parser errors are rewritten,
 * since Node's JSON errors quote the body (which may hold a password).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_ERROR_CODES, type ApiErrorBody, type ApiErrorCode } from '../../protocol/api';
import { ServiceError } from '../services/service-error';
import { STATUS_OF_CODE } from './error-status';
import { validationMessage } from './validation-message';

// Fastify's own client errors, with messages that never quote the request.
const FASTIFY_CLIENT_ERRORS: Readonly<Record<string, string>> = Object.freeze({
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send the body as JSON with Content-Type: application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty but Content-Type says JSON: send a JSON object, or no Content-Type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is too large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the Content-Length does not match the body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
});

export function sendError(reply: FastifyReply, code: ApiErrorCode, message: string, status = STATUS_OF_CODE[code]): FastifyReply {
  const body: ApiErrorBody = { error: { code, message } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * Errors the router raises before any route runs (Fastify's `frameworkErrors`): without this they leave in
 * Fastify's own shape, quoting the path. A path part over the router's length limit is a malformed id: 400.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendError(reply, API_ERROR_CODES.badRequest, 'a part of the URL path is too long to be an id: check the URL');
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    return sendError(reply, API_ERROR_CODES.badRequest, 'the URL path is not valid (a bad percent-encoding): check the URL');
  }
  return sendError(reply, API_ERROR_CODES.internal, 'something went wrong on the server; the details are in its log');
}

export function addErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ServiceError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      request.log.info({ code: error.code }, 'request refused');
      return sendError(reply, error.code, error.message);
    }
    if (error.validation) {
      return sendError(reply, API_ERROR_CODES.validation, validationMessage(error.validation, error.validationContext));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message =
        FASTIFY_CLIENT_ERRORS[error.code] ??
        (error instanceof SyntaxError ? 'the request body is not valid JSON' : 'the request could not be read');
      request.log.info({ code: error.code }, 'request refused');
      return sendError(reply, API_ERROR_CODES.badRequest, message, status === 413 || status === 415 ? status : 400);
    }
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, API_ERROR_CODES.internal, 'something went wrong on the server; the details are in its log');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, API_ERROR_CODES.notFound, `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
