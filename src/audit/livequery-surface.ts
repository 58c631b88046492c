/** LiveQuery as the audit reports it: which classes clients may subscribe to, and who. */
import type { ParsecConfig } from '../config/types.ts';
import type { ClassSurface, LiveQueryClassSurface } from './types.ts';

/**
 * A subscription is a standing find: Parsec admits it on the class's find permission and evaluates every
 * change as a find by the subscriber, so "who may subscribe" is who may find. undefined when LiveQuery is off.
 */
export function describeLiveQuery(config: ParsecConfig, classes: readonly ClassSurface[] | undefined): LiveQueryClassSurface[] | undefined {
  const classNames = config.liveQuery?.classNames;
  if (classNames === undefined) return undefined;
  const byName = new Map((classes ?? []).map((surface) => [surface.className, surface]));
  return classNames.map((className) => {
    if (classes === undefined) return { className, subscribableBy: 'not read (--no-database)' };
    const find = byName.get(className)?.operations.find;
    return { className, subscribableBy: find ?? 'nobody yet: the class is not in the database' };
  });
}
