/**
 * A raw LiveQuery client for the tests (frames exactly as sent and received), and the helpers the LiveQuery
 * test files share. Not a test file itself (the runner only picks up `*.test.ts`).
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { LiveQueryHub } from '../../src/livequery/hub.ts';
import { call, type HttpResult } from './http.ts';
import { APP_ID, JS_KEY, type TestServer } from './server.ts';

export type Frame = Record<string, any>;

let barrierIds = 1_000_000;

export function wsUrl(server: TestServer): string {
  return server.url.replace(/^http/, 'ws');
}

export function hubOf(server: TestServer): LiveQueryHub {
  const hub = server.parsec.services.liveQuery as LiveQueryHub | undefined;
  assert.ok(hub !== undefined, 'LiveQuery is not configured');
  return hub;
}

export class RawClient {
  readonly frames: Frame[] = [];
  private waiters: { predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];
  closed: { code: number } | undefined;

  private constructor(
    readonly socket: WebSocket,
    /** Absent for a node in another process: `settle` then cannot wait for its hub. */
    private readonly server: TestServer | undefined,
  ) {
    socket.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      this.frames.push(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(frame)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      }
    });
    socket.on('close', (code) => {
      this.closed = { code };
    });
    socket.on('error', () => undefined);
  }

  /** Opens a socket to a test server, or to the `ws://` URL of a node in another process. */
  static async open(server: TestServer | string): Promise<RawClient> {
    const socket = new WebSocket(typeof server === 'string' ? server : wsUrl(server));
    // Listening before the socket opens: a frame sent right after the handshake arrives with it.
    const client = new RawClient(socket, typeof server === 'string' ? undefined : server);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Opens and connects (app id and JavaScript key, plus `extra`), failing unless `connected` comes back. */
  static async connected(server: TestServer | string, extra: Frame = {}): Promise<RawClient> {
    const client = await RawClient.open(server);
    const answer = await client.connect(extra);
    assert.equal(answer.op, 'connected', JSON.stringify(answer));
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or to come) matching `predicate`. */
  next(predicate: (frame: Frame) => boolean, label = 'a frame', timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}; frames: ${JSON.stringify(this.frames)}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  connect(extra: Frame = {}): Promise<Frame> {
    this.send({ op: 'connect', applicationId: APP_ID, javascriptKey: JS_KEY, ...extra });
    return this.next((frame) => frame.op === 'connected' || (frame.op === 'error' && frame.requestId === undefined), 'connected');
  }

  /** Subscribes and returns the answer (`subscribed` or `error` for this request id). */
  subscribe(requestId: number, query: Frame, sessionToken?: string): Promise<Frame> {
    this.send({ op: 'subscribe', requestId, query, ...(sessionToken === undefined ? {} : { sessionToken }) });
    return this.answerTo(requestId);
  }

  answerTo(requestId: number): Promise<Frame> {
    return this.next((frame) => frame.requestId === requestId && ['subscribed', 'unsubscribed', 'error'].includes(frame.op), `an answer to ${requestId}`);
  }

  /**
   * Every event dispatched so far has reached this client: waits for the hub to finish, then for the
   * answer to a request sent after that (frames of one socket arrive in order).
   */
  async settle(): Promise<void> {
    if (this.server !== undefined) await hubOf(this.server).idle();
    const id = barrierIds++;
    this.send({ op: 'unsubscribe', requestId: id });
    await this.next((frame) => frame.requestId === id && frame.op === 'error', 'the barrier');
  }

  /** The events (create/enter/update/leave/delete) received for `requestId`, in order. */
  events(requestId?: number): Frame[] {
    return this.frames.filter((frame) => ['create', 'enter', 'update', 'leave', 'delete'].includes(frame.op) && (requestId === undefined || frame.requestId === requestId));
  }

  errors(): Frame[] {
    return this.frames.filter((frame) => frame.op === 'error' && (frame.requestId === undefined || frame.requestId < 1_000_000));
  }

  clear(): void {
    this.frames.length = 0;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** A REST answer's body, failing with the whole answer otherwise. */
export function ok(result: HttpResult, label: string): any {
  assert.ok(result.status >= 200 && result.status < 300, `${label}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Signs a user up and returns its id and session token. */
export async function signUp(server: TestServer, username: string): Promise<{ id: string; token: string }> {
  const body = ok(await call(server.url, '/users', { method: 'POST', body: { username, password: 'pw-123456' } }), `sign up ${username}`);
  return { id: body.objectId as string, token: body.sessionToken as string };
}

export function asUser(token: string): { headers: Record<string, string> } {
  return { headers: { 'X-Parse-Session-Token': token } };
}
