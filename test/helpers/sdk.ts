import { createRequire } from 'node:module';
import { APP_ID, JS_KEY, MASTER_KEY } from './server.ts';

const require = createRequire(import.meta.url);

/** The official Parse JS SDK (parse/node), pointed at a test server. One SDK instance per test process. */
export function parseSdk(serverURL: string): any {
  const Parse = require('parse/node');
  Parse.initialize(APP_ID, JS_KEY, MASTER_KEY);
  Parse.serverURL = serverURL;
  return Parse;
}
