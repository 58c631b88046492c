/**
 * Child process: the HTTP limit. A bare Fastify server, in the same process model as Parsec, answering the
 * benchmarked routes (get, find, create, `/users/me`, and the cloud functions `ping`, `guarded`, `cloudQuery`)
 * with Parsec's own captured responses (status, headers and body verbatim), so the only difference from
 * Parsec is the work Parsec does between request and response.
 * The responses arrive with the `configure` command before any load is applied.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { runChild } from './child-main.ts';
import type { CapturedResponse, CapturedResponses } from './responses.ts';

await runChild(async () => {
  let responses: CapturedResponses | undefined;
  const app = Fastify({ logger: false, requestIdHeader: false });
  const reply =
    (pick: (all: CapturedResponses) => CapturedResponse) =>
    (_request: FastifyRequest, res: FastifyReply): FastifyReply => {
      if (responses === undefined) throw new Error('serve-bare: not configured');
      const response = pick(responses);
      return res.code(response.status).headers(response.headers).send(response.body);
    };
  app.get('/parse/classes/BenchItem/:objectId', reply((all) => all.get));
  app.get('/parse/classes/BenchItem', reply((all) => all.find));
  // Fastify's JSON parser reads the body, as Parsec must, before the canned answer goes out.
  app.post('/parse/classes/BenchItem', reply((all) => all.create));
  // The session token header is sent (same request bytes) but, as for the other routes, not looked at.
  app.get('/parse/users/me', reply((all) => all.me));
  // A cloud function's call, answered with the same `{"result": …}`: its JSON body (the params) is parsed too.
  app.post('/parse/functions/ping', reply((all) => all.ping));
  app.post('/parse/functions/guarded', reply((all) => all.guarded));
  app.post('/parse/functions/cloudQuery', reply((all) => all.cloudQuery));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('bare server is not listening on a TCP port');
  return {
    port: address.port,
    close: () => app.close(),
    commands: {
      configure: (payload) => {
        responses = payload as CapturedResponses;
        return true;
      },
    },
  };
});
