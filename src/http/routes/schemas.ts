import { ErrorCode, ParseError } from '../../errors/parse-error.ts';
import {
  assertSchemaAccess,
  assertSchemaClass,
  classNameFromBody,
  parseSchemaChange,
  schemaToJson,
} from '../../rest/schemas.ts';
import { BUILT_IN_FIELDS } from '../../schema/types.ts';
import { SYSTEM_CLASS_FIELDS } from '../../users/system-classes.ts';
import { ok, type Handler, type Router } from '../router.ts';

const createClass: Handler = async (request, params) => {
  assertSchemaAccess(request.caller, true);
  const className = classNameFromBody(params.className, request.body);
  assertSchemaClass(className);
  const change = parseSchemaChange(request.body, BUILT_IN_FIELDS, false);
  return ok(schemaToJson(await request.caller.services.schemas.createClass(className, change, request.caller.services.driver)));
};

export function registerSchemaRoutes(router: Router): void {
  router
    .add('GET', '/schemas', (request) => {
      assertSchemaAccess(request.caller, false);
      return Promise.resolve(ok({ results: request.caller.services.schemas.all().map(schemaToJson) }));
    })
    .add('GET', '/schemas/:className', (request, { className = '' }) => {
      assertSchemaAccess(request.caller, false);
      const schema = request.caller.services.schemas.get(className);
      if (schema === undefined) throw new ParseError(ErrorCode.INVALID_CLASS_NAME, `Class ${className} does not exist.`);
      return Promise.resolve(ok(schemaToJson(schema)));
    })
    .add('POST', '/schemas', createClass)
    .add('POST', '/schemas/:className', createClass)
    .add('PUT', '/schemas/:className', async (request, { className = '' }) => {
      assertSchemaAccess(request.caller, true);
      classNameFromBody(className, request.body);
      // Server classes (_User, _Role, _Session) take permissions, indexes and extra fields, as in Parse;
      // the fields the server itself defines stay.
      const systemFields = SYSTEM_CLASS_FIELDS.get(className);
      if (systemFields === undefined) assertSchemaClass(className);
      const { schemas, driver } = request.caller.services;
      const current = schemas.get(className);
      if (current === undefined) throw new ParseError(ErrorCode.INVALID_CLASS_NAME, `Class ${className} does not exist.`);
      const change = parseSchemaChange(request.body, current.fields, true);
      const kept = change.deleteFields?.find((name) => systemFields?.has(name) === true);
      if (kept !== undefined) throw new ParseError(ErrorCode.CHANGED_IMMUTABLE_FIELD, `Field ${kept} cannot be changed.`);
      return ok(schemaToJson(await schemas.updateClass(className, change, driver)));
    })
    .add('DELETE', '/schemas/:className', async (request, { className = '' }) => {
      assertSchemaAccess(request.caller, true);
      assertSchemaClass(className);
      await request.caller.services.schemas.deleteClass(className, request.caller.services.driver);
      return ok({});
    });
}
