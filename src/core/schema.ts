import { z } from 'zod';
import { CacheEngine } from './engine';
import { ValidationError } from './errors';

/**
 * Tells a flavor's unresolved tokens apart: core cannot know aws-cdk-lib's or cdktf's tokens, so
 * each flavor passes its own check in.
 */
export interface TokenCheck {
  isUnresolved(value: unknown): boolean;
}

/** For callers with no tokens (tests, core alone). */
export const NO_TOKENS: TokenCheck = { isUnresolved: () => false };

const CONCRETE = 'must be a concrete value known at synth time (it sizes the fleet or is written into its configuration), not a token';

/** `z.instanceof` wants a public constructor; engines and persistence have private ones. */
export function instanceOf<T>(type: Function, allowed: string) {
  return z.custom<T>((value) => value instanceof type, { error: allowed });
}

/** The engine prop every construct takes. */
export function engineSchema() {
  return instanceOf<CacheEngine>(
    CacheEngine,
    'must be a CacheEngine (CacheEngine.redis(), CacheEngine.valkey() or CacheEngine.memcached())',
  );
}

/**
 * Runs a schema and turns its first issue into a `ValidationError` with the prop's path, the value
 * received and what is allowed. Props in `concrete` must not be unresolved tokens.
 */
export function parse<S extends z.ZodType>(schema: S, props: unknown, tokens: TokenCheck, concrete: string[]): z.infer<S> {
  if (typeof props !== 'object' || props === null) {
    throw new ValidationError('props', props, 'must be an object');
  }
  for (const name of concrete) {
    const value = (props as Record<string, unknown>)[name];
    if (value !== undefined && tokens.isUnresolved(value)) throw new ValidationError(name, value, CONCRETE);
  }
  const result = schema.safeParse(props);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join('.') || 'props';
  throw new ValidationError(path, valueAt(props, issue.path), issue.message);
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown> | undefined)?.[key], root);
}
