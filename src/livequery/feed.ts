/**
 * Where writes meet LiveQuery. The REST use cases (create, update, destroy — which batch, cloud code and
 * every SDK call go through) read the row's image before and after their statement inside their own
 * transaction, and the change is handed over only once that transaction has committed, so subscribers
 * never hear of a write that rolled back, and hear of each write with the row exactly as it left it.
 */
import { ident } from '../storage/sql/params.ts';
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import { publicImage, type RowImage } from './evaluate.ts';
import { isPlainObject } from '../query/values.ts';

/** One committed change of one object: `before` absent for a create, `after` absent for a delete. */
export interface RowChange {
  readonly className: string;
  readonly objectId: string;
  readonly before?: RowImage;
  readonly after?: RowImage;
}

/** What the write path sees of LiveQuery (`Services.liveQuery`). */
export interface ChangeFeed {
  /** Whether writes to the class must be observed (it is in `liveQuery.classNames`). */
  watches(className: string): boolean;
  /** A committed change (called after commit, on the node that wrote it). */
  publish(change: RowChange): void;
  /** Tells the other nodes, from inside the writing transaction (delivered at its commit, never on rollback). */
  announce(db: Driver, change: RowChange): Promise<void>;
}

/** How a node's committed changes reach the other nodes' subscribers (PostgreSQL NOTIFY or Redis pub/sub). */
export interface ChangeFanout {
  /** Called inside the writing transaction `db`; the other nodes must hear of the change only if it commits. */
  announce(db: Driver, change: RowChange): Promise<void>;
  close(): Promise<void>;
}

/** A change received from another node, checked before it is dispatched: anything malformed is dropped. */
export function readChange(value: unknown): RowChange | undefined {
  if (!isPlainObject(value) || typeof value.className !== 'string' || typeof value.objectId !== 'string') return undefined;
  const image = (side: unknown) => (isPlainObject(side) ? side : undefined);
  const before = image(value.before);
  const after = image(value.after);
  if (before === undefined && after === undefined) return undefined;
  return { className: value.className, objectId: value.objectId, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) };
}

/** The row's image inside the writer's transaction; `lock` holds it until commit so `before` is exactly what the write changed. */
export async function readImage(db: SqlExecutor, className: string, objectId: string, lock: boolean): Promise<RowImage | undefined> {
  const { rows } = await db.query<{ doc: Record<string, unknown> }>(
    `SELECT to_jsonb(t) AS doc FROM ${ident(className)} AS t WHERE t."objectId" = $1::text${lock ? ' FOR UPDATE' : ''}`,
    [objectId],
  );
  const doc = rows[0]?.doc;
  return doc === undefined ? undefined : publicImage(typeof doc === 'string' ? (JSON.parse(doc) as Record<string, unknown>) : doc);
}

/**
 * Runs `write` (inside the caller's transaction `db`) between the two images of the row and hands the
 * change to `feed` when the transaction commits. Without a feed watching the class it is just `write()`.
 */
export async function observeWrite<T>(
  feed: ChangeFeed | undefined,
  db: Driver,
  className: string,
  objectId: string,
  kind: 'create' | 'update' | 'delete',
  write: () => Promise<T>,
): Promise<T> {
  if (feed?.watches(className) !== true) return write();
  const before = kind === 'create' ? undefined : await readImage(db, className, objectId, true);
  const result = await write();
  const after = kind === 'delete' ? undefined : await readImage(db, className, objectId, false);
  if (before !== undefined || after !== undefined) {
    const change: RowChange = { className, objectId, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) };
    await feed.announce(db, change);
    db.afterCommit(() => feed.publish(change));
  }
  return result;
}
