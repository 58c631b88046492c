/** A response captured from Parsec, replayed byte for byte by the bare server. */
export interface CapturedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface CapturedResponses {
  readonly get: CapturedResponse;
  readonly find: CapturedResponse;
  readonly create: CapturedResponse;
  /** `GET /users/me` with a session token. */
  readonly me: CapturedResponse;
  /** The cloud functions (`POST /functions/…`): `guarded` with a session token. */
  readonly ping: CapturedResponse;
  readonly guarded: CapturedResponse;
  readonly cloudQuery: CapturedResponse;
}

/** Headers Node sets per response itself; copying them would duplicate or falsify them. */
const PER_RESPONSE = new Set(['date', 'content-length', 'connection', 'keep-alive', 'transfer-encoding']);

export async function capture(response: Response): Promise<CapturedResponse> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_RESPONSE.has(name)) headers[name] = value;
  });
  return { status: response.status, headers, body: await response.text() };
}
