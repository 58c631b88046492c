/**
 * What a find returns of each object it read: the `keys`/`excludeKeys` selection at the top level, and the
 * fields dotted keys select inside the objects they include.
 */
import { TEXT_SCORE, type FindQuery } from '../query/tree.ts';
import type { JsonRecord } from './encode.ts';

const ALWAYS_KEPT = ['objectId', 'createdAt', 'updatedAt', 'ACL'];

/**
 * `keys=post.title`: in each object `post` includes, only `title` (and what every object keeps) remains,
 * at any depth (`post.author.name`), in arrays of objects too, as Parse applies the keys to the include's
 * own query. A field that is not an included object is left as it is.
 */
export function keepNestedKeys(objects: readonly unknown[], paths: readonly (readonly string[])[]): void {
  const byField = new Map<string, (readonly string[])[]>();
  for (const [field, ...rest] of paths) {
    if (field === undefined || rest.length === 0) continue;
    byField.set(field, [...(byField.get(field) ?? []), rest]);
  }
  for (const object of objects) {
    if (typeof object !== 'object' || object === null) continue;
    for (const [field, rests] of byField) {
      const value = (object as JsonRecord)[field];
      for (const included of Array.isArray(value) ? value : [value]) {
        if (typeof included !== 'object' || included === null || (included as JsonRecord).__type !== 'Object') continue;
        const kept = new Set([...ALWAYS_KEPT, '__type', 'className', ...rests.map((rest) => rest[0])]);
        for (const key of Object.keys(included as JsonRecord)) if (!kept.has(key)) delete (included as JsonRecord)[key];
        keepNestedKeys([included], rests);
      }
    }
  }
}

export function project(results: JsonRecord[], query: FindQuery): void {
  const always = new Set(ALWAYS_KEPT);
  if (query.keys?.has(TEXT_SCORE) === true) always.add('score');
  for (const result of results) {
    for (const key of Object.keys(result)) {
      if (always.has(key)) continue;
      if ((query.keys !== undefined && !query.keys.has(key)) || query.excludeKeys.has(key)) delete result[key];
    }
  }
}
