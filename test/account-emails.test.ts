import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmailMessage } from '../src/users/email.ts';
import { call, query } from './helpers/http.ts';
import { APP_ID, engines, startTestServer, type TestServer } from './helpers/server.ts';

for (const engine of engines()) {
  describe(`password reset and email verification (${engine})`, () => {
    let server: TestServer;
    const outbox: EmailMessage[] = [];
    before(async () => {
      // More reset requests than the default rate limit allows one address (tested in abuse-limits.test.ts).
      server = await startTestServer(engine, { rateLimit: [] }, { mail: { sendMail: (message) => (outbox.push(message), Promise.resolve()) } });
    });
    after(async () => server.stop());

    const as = (token: string) => ({ headers: { 'X-Parse-Session-Token': token } });
    const linkToken = (message: EmailMessage | undefined): string => {
      const match = /token=([A-Za-z0-9_-]+)/.exec(message?.text ?? '');
      assert.ok(match, 'the email carries a link with a token');
      return match[1] as string;
    };
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    test('the same answer for unknown, verified and unverified addresses; mail only to real accounts', async () => {
      const user = await call(server.url, '/users', { method: 'POST', body: { username: 'mailer', password: 'pw-1', email: 'mailer@example.com' } });
      assert.equal(user.status, 201);
      outbox.length = 0;
      const known = await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'MAILER@example.com' } });
      const unknown = await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'nobody@example.com' } });
      assert.deepEqual(known.body, {});
      assert.deepEqual(unknown.body, {});
      assert.equal(known.status, unknown.status);
      await settle();
      assert.equal(outbox.length, 1);
      assert.equal(outbox[0]?.to, 'mailer@example.com');

      const verifyKnown = await call(server.url, '/verificationEmailRequest', { method: 'POST', body: { email: 'mailer@example.com' } });
      const verifyUnknown = await call(server.url, '/verificationEmailRequest', { method: 'POST', body: { email: 'nobody@example.com' } });
      assert.deepEqual(verifyKnown.body, {});
      assert.deepEqual(verifyUnknown.body, {});

      for (const body of [{}, { email: '' }]) assert.equal((await call(server.url, '/requestPasswordReset', { method: 'POST', body })).body.code, 204);
      for (const body of [{ email: { $ne: null } }, { email: ['a@b.c'] }, { email: 5 }]) {
        assert.equal((await call(server.url, '/requestPasswordReset', { method: 'POST', body })).body.code, 125);
      }
    });

    test('a reset link works once, sets the password and ends every session', async () => {
      const created = await call(server.url, '/users', { method: 'POST', body: { username: 'forgetful', password: 'old-pw', email: 'forgetful@example.com' } });
      const session = created.body.sessionToken as string;
      outbox.length = 0;
      await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'forgetful@example.com' } });
      await settle();
      const token = linkToken(outbox.at(-1));
      const { rows } = await server.parsec.services.driver.query<{ t: string }>('SELECT "_perishable_token" AS t FROM "_User" WHERE "username" = $1', ['forgetful']);
      assert.notEqual(rows[0]?.t, token, 'only a hash of the token is stored');

      const wrongApp = await call(server.url, `/apps/other-app/request_password_reset`, { bare: true, method: 'POST', body: { token, new_password: 'x' } });
      assert.equal(wrongApp.status, 404);
      const noPassword = await call(server.url, `/apps/${APP_ID}/request_password_reset`, { bare: true, method: 'POST', body: { token } });
      assert.equal(noPassword.body.code, 201);

      const [first, second] = await Promise.all([
        call(server.url, `/apps/${APP_ID}/request_password_reset`, { bare: true, method: 'POST', body: { token, new_password: 'new-pw-1' } }),
        call(server.url, `/apps/${APP_ID}/request_password_reset`, { bare: true, method: 'POST', body: { token, new_password: 'new-pw-2' } }),
      ]);
      const statuses = [first?.status, second?.status].sort();
      assert.deepEqual(statuses, [200, 400], 'two concurrent uses of one token: exactly one succeeds');
      const winner = first?.status === 200 ? 'new-pw-1' : 'new-pw-2';
      assert.equal((await call(server.url, '/login', { method: 'POST', body: { username: 'forgetful', password: winner } })).status, 200);
      assert.equal((await call(server.url, '/login', { method: 'POST', body: { username: 'forgetful', password: 'old-pw' } })).body.code, 101);
      assert.equal((await call(server.url, '/users/me', as(session))).body.code, 209, 'a reset ends the old sessions');
      const reused = await call(server.url, `/apps/${APP_ID}/request_password_reset`, { bare: true, method: 'POST', body: { token, new_password: 'again' } });
      assert.equal(reused.status, 400);
      const operator = await call(server.url, `/apps/${APP_ID}/request_password_reset`, { bare: true, method: 'POST', body: { token: { $regex: '' }, new_password: 'x' } });
      assert.equal(operator.status, 400);
    });

    test('an expired reset link does nothing', async () => {
      await call(server.url, '/users', { method: 'POST', body: { username: 'late', password: 'late-pw', email: 'late@example.com' } });
      outbox.length = 0;
      await call(server.url, '/requestPasswordReset', { method: 'POST', body: { email: 'late@example.com' } });
      await settle();
      const token = linkToken(outbox.at(-1));
      await server.parsec.services.driver.query(`UPDATE "_User" SET "_perishable_token_expires_at" = now() - interval '1 second' WHERE "username" = 'late'`);
      const expired = await call(server.url, `/apps/${APP_ID}/request_password_reset`, { bare: true, method: 'POST', body: { token, new_password: 'x' } });
      assert.equal(expired.status, 400);
      assert.equal((await call(server.url, '/login', { method: 'POST', body: { username: 'late', password: 'late-pw' } })).status, 200);
    });

    test('passwordPolicy.resetTokenValidityDuration sets the link lifetime', async () => {
      const short = await startTestServer(engine, { passwordPolicy: { resetTokenValidityDuration: 120 }, rateLimit: [] }, { mail: { sendMail: () => Promise.resolve() } });
      try {
        await call(short.url, '/users', { method: 'POST', body: { username: 'timed', password: 'pw', email: 'timed@example.com' } });
        await call(short.url, '/requestPasswordReset', { method: 'POST', body: { email: 'timed@example.com' } });
        const { rows } = await short.parsec.services.driver.query<{ s: number }>(
          `SELECT EXTRACT(EPOCH FROM ("_perishable_token_expires_at" - now()))::float8 AS s FROM "_User" WHERE "username" = 'timed'`,
        );
        const seconds = rows[0]?.s ?? 0;
        assert.ok(seconds > 100 && seconds <= 120, String(seconds));
      } finally {
        await short.stop();
      }
    });

    test('a verification link marks the address verified, once', async () => {
      await call(server.url, '/users', { method: 'POST', body: { username: 'verifying', password: 'pw', email: 'verifying@example.com' } });
      outbox.length = 0;
      await call(server.url, '/verificationEmailRequest', { method: 'POST', body: { email: 'verifying@example.com' } });
      await settle();
      const token = linkToken(outbox.at(-1));
      const verified = await call(server.url, `/apps/${APP_ID}/verify_email${query({ token })}`, { bare: true });
      assert.equal(verified.status, 200);
      const user = await call(server.url, `/users${query({ where: { username: 'verifying' } })}`, { master: true });
      assert.equal(user.body.results[0].emailVerified, true);
      assert.equal((await call(server.url, `/apps/${APP_ID}/verify_email${query({ token })}`, { bare: true })).status, 400);
      outbox.length = 0;
      await call(server.url, '/verificationEmailRequest', { method: 'POST', body: { email: 'verifying@example.com' } });
      await settle();
      assert.equal(outbox.length, 0, 'no email to an address that is already verified');
    });
  });
}

for (const engine of engines()) {
  describe(`email verification required (${engine})`, () => {
    let server: TestServer;
    let dir: string;
    before(async () => {
      // The adapter is loaded from a module, as a parse-server emailAdapter config would name it.
      dir = await mkdtemp(path.join(tmpdir(), 'parsec-mail-'));
      await writeFile(
        path.join(dir, 'adapter.mjs'),
        'export default (options) => ({ sendMail(message) { (globalThis.__parsecOutbox ??= []).push({ ...message, tag: options.tag }); return Promise.resolve(); } });\n',
      );
      server = await startTestServer(engine, {
        verifyUserEmails: true,
        preventLoginWithUnverifiedEmail: true,
        emailAdapter: { module: path.join(dir, 'adapter.mjs'), options: { tag: 'loaded' } },
      });
    });
    after(async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const outbox = (): (EmailMessage & { tag?: string })[] => ((globalThis as Record<string, unknown>).__parsecOutbox as (EmailMessage & { tag?: string })[] | undefined) ?? [];

    test('sign-up sends a link through the configured adapter and returns no session until verified', async () => {
      const created = await call(server.url, '/users', { method: 'POST', body: { username: 'pending', password: 'pw', email: 'pending@example.com', emailVerified: undefined } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.sessionToken, undefined);
      await new Promise((resolve) => setImmediate(resolve));
      const message = outbox().at(-1);
      assert.equal(message?.to, 'pending@example.com');
      assert.equal(message?.tag, 'loaded', 'the factory received the configured options');
      const wrong = await call(server.url, '/login', { method: 'POST', body: { username: 'pending', password: 'nope' } });
      assert.equal(wrong.body.code, 101, 'a wrong password never learns the verification state');
      const early = await call(server.url, '/login', { method: 'POST', body: { username: 'pending', password: 'pw' } });
      assert.equal(early.body.code, 205);
      const user = await call(server.url, `/users${query({ where: { username: 'pending' } })}`, { master: true });
      assert.equal(user.body.results[0].emailVerified, false);
      const token = /token=([A-Za-z0-9_-]+)/.exec(message?.text ?? '')?.[1] ?? '';
      assert.equal((await call(server.url, `/apps/${APP_ID}/verify_email${query({ token })}`, { bare: true })).status, 200);
      const login = await call(server.url, '/login', { method: 'POST', body: { username: 'pending', password: 'pw' } });
      assert.equal(login.status, 200);
      assert.match(login.body.sessionToken, /^r:/);
    });
  });
}
