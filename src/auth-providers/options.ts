/** Reading a built-in provider's options at start: a wrong or missing setting stops the start with its name. */

export class AuthOptionError extends Error {}

export function requiredString(provider: string, options: Readonly<Record<string, unknown>>, key: string): string {
  const value = options[key];
  if (typeof value !== 'string' || value === '') throw new AuthOptionError(`auth.${provider}.${key} must be a non-empty string`);
  return value;
}

/**
 * A list of ids, exactly matched. A single string is accepted where Parse documents one (`clientId`), but
 * never where Parse documents a list (`appIds`): a string there was matched as a substring (GHSA-r657-33vp-gp22).
 */
export function idList(provider: string, options: Readonly<Record<string, unknown>>, key: string, allowString: boolean): readonly string[] {
  const value = options[key];
  if (allowString && typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== '')) return Object.freeze([...(value as string[])]);
  throw new AuthOptionError(`auth.${provider}.${key} must be ${allowString ? 'a non-empty string or ' : ''}a non-empty array of strings (the ids issued to this app)`);
}

export function httpsUrl(provider: string, options: Readonly<Record<string, unknown>>, key: string): string {
  const value = requiredString(provider, options, key);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthOptionError(`auth.${provider}.${key} must be a URL`);
  }
  if (url.protocol !== 'https:') throw new AuthOptionError(`auth.${provider}.${key} must be an https URL`);
  return url.href;
}
