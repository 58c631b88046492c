import { parseFindOptions } from '../query/parse-find.ts';
import { and, type FindQuery } from '../query/tree.ts';
import type { JsonRecord } from '../rest/encode.ts';
import type { Caller } from '../rest/services.ts';
import { findLimitsFor } from '../security/find-limits.ts';
import type { CloudTrigger } from './registry.ts';
import type { ParseSdk } from './sdk.ts';
import { TriggerSession, type SdkObject } from './triggers.ts';

interface SdkQuery {
  toJSON(): Record<string, unknown>;
}

/**
 * `beforeFind` and `afterFind` of one class. The permission plan is not part of the query the trigger
 * sees or returns: whatever query it hands back is run with the caller's permissions, so a trigger can
 * narrow or reshape a find but never widen what the caller may read.
 */
export class FindTriggers {
  private sdkQuery: SdkQuery | undefined;

  private constructor(
    private readonly session: TriggerSession,
    private readonly className: string,
    private readonly before: CloudTrigger | undefined,
    private readonly after: CloudTrigger | undefined,
  ) {}

  static for(caller: Caller, className: string): FindTriggers | undefined {
    const { registry, sdk } = caller.services.cloud;
    if (sdk === undefined) return undefined;
    const before = registry.trigger('beforeFind', className);
    const after = registry.trigger('afterFind', className);
    if (before === undefined && after === undefined) return undefined;
    return new FindTriggers(new TriggerSession(caller, sdk), className, before, after);
  }

  private get sdk(): ParseSdk {
    return this.session.sdk;
  }

  private queryOf(query: FindQuery): SdkQuery {
    this.sdkQuery ??= (this.sdk.Query as { fromJSON(className: string, json: unknown): SdkQuery }).fromJSON(this.className, query.wire ?? { where: {} });
    return this.sdkQuery;
  }

  /** Runs `beforeFind`; the query it leaves (or returns) is parsed again like a client's. A get stays a get. */
  async beforeFind(query: FindQuery, operation: 'find' | 'get'): Promise<FindQuery> {
    if (this.before === undefined || query.wire === undefined) return query;
    const sdkQuery = this.queryOf(query);
    const { request, result, skipped } = await this.session.run(this.before, { query: sdkQuery, count: query.count, isGet: operation === 'get' });
    if (skipped) return query;
    const SdkQueryClass = this.sdk.Query as abstract new (...args: never[]) => SdkQuery;
    const chosen = result instanceof SdkQueryClass ? result : (request.query as SdkQuery);
    this.sdkQuery = chosen;
    const reparsed = parseFindOptions(this.className, chosen.toJSON(), findLimitsFor(this.session.caller));
    if (operation !== 'get') return { ...reparsed, count: reparsed.count || query.count };
    return { ...reparsed, where: and(query.where, reparsed.where), limit: 1, skip: 0, count: false };
  }

  /** Runs `afterFind`; it may change the objects or return others, which become the results. */
  async afterFind(query: FindQuery, results: JsonRecord[]): Promise<JsonRecord[]> {
    if (this.after === undefined || results.length === 0) return results;
    const objects = results.map((result) => this.session.toObject(this.className, result));
    const { request, result, skipped } = await this.session.run(this.after, { objects, query: this.queryOf(query) });
    if (skipped) return results;
    const chosen: unknown = Array.isArray(result) ? result : request.objects;
    if (!Array.isArray(chosen)) return results;
    const ParseObject = this.sdk.Object as abstract new (...args: never[]) => SdkObject;
    return chosen.map((item: unknown) => {
      if (!(item instanceof ParseObject)) return JSON.parse(JSON.stringify(item)) as JsonRecord;
      // A find's results are bare objects; the SDK's full form adds `__type` and `className`.
      const json = item._toFullJSON([]);
      delete json.__type;
      delete json.className;
      return json;
    });
  }
}
