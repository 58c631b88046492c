/* global Parse, process */
/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return -- the SDK's global `Parse` has no types */
// The bench's cloud code (bench/README.md): plain CommonJS with the global `Parse`, as an app writes it.
// Parsec's serve-parsec.ts loads it with `cloud: <this file>`; BENCH_FIND_GROUP and BENCH_QUERY_LIMIT come
// from its environment, so the query is the find workload's (bench/workload.ts), with a smaller page.

const FIND_GROUP = Number(process.env.BENCH_FIND_GROUP ?? 3);
const QUERY_LIMIT = Number(process.env.BENCH_QUERY_LIMIT ?? 10);

// The cheapest call there is: no user, no params, a constant answer.
Parse.Cloud.define('ping', () => ({ pong: true }), { public: true });

// A session token is required (request.user is the caller's user), and `n` must be sent.
Parse.Cloud.define('guarded', (request) => ({ n: request.params.n, user: request.user.id }), { requireUser: true, fields: ['n'] });

// One query through the in-process SDK, acting as the caller (Parsec's default, cloudActsAsCaller).
Parse.Cloud.define(
  'cloudQuery',
  async () => {
    const results = await new Parse.Query('BenchItem').equalTo('group', FIND_GROUP).limit(QUERY_LIMIT).find();
    return results.length;
  },
  { public: true },
);

// `ping` again, under another name so that the cluster bench can put a rate-limit rule on its route alone
// (bench/cluster.ts): every call is then counted in the nodes' shared store (PostgreSQL, or Redis).
Parse.Cloud.define('countedPing', () => ({ pong: true }), { public: true });
