import type { BuiltInFactory } from './built-in.ts';

/**
 * Anonymous users: the id is a random value the client made up (the SDK uses a UUID) and is the only
 * credential, so there is nothing to ask anyone. The core already checked it is a non-empty string.
 */
export const anonymousAdapter: BuiltInFactory = () => ({
  validateAuthData: () => undefined,
});
