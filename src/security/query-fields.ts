import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Condition, FindQuery } from '../query/tree.ts';
import type { AccessPlan } from './access.ts';

function refuse(field: string, className: string): never {
  throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, `This user is not allowed to query ${field} on class ${className}.`);
}

/**
 * Refuses a query that names a field the caller may not see, wherever it names it: a filter at any depth
 * (logical operators, dot notation, sub-queries on other classes, `$relatedTo`), the sort order, `keys` and
 * `include`. Stripping the field from results is not enough: a filter or a sort on it answers questions
 * about its value one bit at a time (reference §7.5).
 */
export function assertQueryable(access: AccessPlan, query: FindQuery): void {
  const check = (className: string, field: string): void => {
    if (access.protectedFields(className).unqueryable.has(field)) refuse(field, className);
  };
  const walk = (condition: Condition, className: string): void => {
    switch (condition.type) {
      case 'true':
      case 'access':
        return;
      case 'and':
      case 'or':
      case 'nor':
        for (const child of condition.conditions) walk(child, className);
        return;
      case 'compare':
      case 'in':
      case 'all':
      case 'containedBy':
      case 'exists':
      case 'regex':
      case 'geoDistance':
      case 'geoBox':
      case 'geoPolygon':
      case 'polygonContains':
      case 'text':
        check(className, condition.target.field);
        return;
      case 'inQuery':
        check(className, condition.target.field);
        walk(condition.query.where, condition.query.className);
        return;
      case 'select':
        check(className, condition.target.field);
        check(condition.query.className, condition.key);
        walk(condition.query.where, condition.query.className);
        return;
      case 'relatedTo':
        check(condition.owner.className, condition.key);
        return;
    }
  };
  walk(query.where, query.className);
  for (const key of query.order) check(query.className, key.target.field);
  for (const key of query.keys ?? []) check(query.className, key);
  for (const path of query.include) if (path[0] !== undefined) check(query.className, path[0]);
}
