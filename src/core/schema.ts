import { z } from 'zod';
import { CIDR_ALLOWED, isIpv4Address, requireSubnetCidr } from './addresses';
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

/** A whole number from `min` to `max`. */
export function integerBetween(min: number, max: number, allowed = `must be an integer between ${min} and ${max}`) {
  return z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
}

/** A yes-or-no prop. */
export function booleanSchema() {
  return z.boolean({ error: 'must be true or false' });
}

/** A prop that takes the values of an enum, named `Type.MEMBER` nowhere but in the message. */
export function enumSchema<E extends Record<string, string>>(values: E, typeName: string) {
  return z.enum(values, { error: `must be a ${typeName} (${Object.values(values).join(', ')})` });
}

/** An IPv4 address (core's one parser). */
export function ipv4AddressSchema(allowed: string) {
  return z.string({ error: allowed }).refine(isIpv4Address, { error: allowed });
}

/**
 * A subnet: an IPv4 CIDR block of at most /30 starting on its first address (core's one parser),
 * whose message says which of the two it is not.
 */
export function subnetCidrSchema() {
  return z.string({ error: CIDR_ALLOWED }).superRefine((cidr, context) => {
    try {
      requireSubnetCidr('subnet', cidr);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as ValidationError).allowed });
    }
  });
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
