import { request as httpRequest } from 'node:http';
import { APP_ID, MASTER_KEY, REST_KEY, type TestServer } from './server.ts';

export interface RawResult {
  status: number;
  body: any;
  bytes: Buffer;
  headers: Headers;
}

/** Raw fetch with the REST key (plus the master key or a session when asked); body parsed as JSON when it is. */
export async function request(url: string, init: { method?: string; body?: Uint8Array | string; headers?: Record<string, string>; master?: boolean; bare?: boolean } = {}): Promise<RawResult> {
  const headers: Record<string, string> = init.bare ? {} : { 'X-Parse-Application-Id': APP_ID, 'X-Parse-REST-API-Key': REST_KEY };
  if (init.master) headers['X-Parse-Master-Key'] = MASTER_KEY;
  Object.assign(headers, init.headers);
  // A copy on a plain ArrayBuffer: what fetch's BodyInit accepts whatever buffer the caller's view is on.
  const body = init.body === undefined || typeof init.body === 'string' ? init.body : new Uint8Array(init.body);
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  let parsed: unknown;
  try {
    parsed = bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, bytes, headers: response.headers };
}

/** `POST /files/<name>` with raw bytes, as curl or a mobile SDK uploads. The name is sent as given (already encoded). */
export function uploadRaw(server: TestServer, name: string, data: Uint8Array | string, options: { contentType?: string; master?: boolean; headers?: Record<string, string> } = {}): Promise<RawResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
  return request(`${server.url}/files/${name}`, { method: 'POST', body: data, headers, master: options.master });
}

/** The JS SDK's JSON form: credentials in the body, the file as base64, sent as text/plain. */
export function uploadJson(server: TestServer, name: string, body: Record<string, unknown>, options: { master?: boolean } = {}): Promise<RawResult> {
  const payload = { _ApplicationId: APP_ID, _JavaScriptKey: 'test-javascript-key', ...(options.master ? { _MasterKey: MASTER_KEY } : {}), ...body };
  return request(`${server.url}/files/${name}`, { method: 'POST', body: JSON.stringify(payload), headers: { 'Content-Type': 'text/plain' }, bare: true });
}

/** File URLs are built from serverURL, which in tests is not the port the server listens on. */
export function local(server: TestServer, url: string): string {
  return url.replace(server.config.serverURL, server.url);
}

/** A GET whose path is sent exactly as written: no client-side resolution of `..` or `%2e%2e`. */
export function rawGet(server: TestServer, path: string): Promise<{ status: number; body: any }> {
  const base = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, path: `${base.pathname}${path}`, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
