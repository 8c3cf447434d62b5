/**
 * The kinds of value a parameter takes. Each type checks a value given as a string (as in an
 * ElastiCache parameter group), turns it into the form the engine is given, and says what it allows
 * in words that complete "`parameters.<name>` …" in a validation message.
 */
export interface ValueType {
  /** The type's name, as the catalog documents it: `integer`, `boolean`, `enum`, `memory`, … */
  readonly kind: string;
  /** What the type allows, completing "`parameters.<name>` …": `must be yes or no`. */
  readonly allowed: string;
  /** The value in the form the engine is given, or `undefined` when the type does not allow it. */
  normalize(value: string): string | undefined;
}

/** C's `INT_MAX`: the bound of Redis's `int` configs. */
export const INT_MAX = 2147483647n;
/** C's `LLONG_MAX` (and `LONG_MAX` on 64-bit Linux): the bound of Redis's `long long` and size configs. */
export const LLONG_MAX = 9223372036854775807n;

const WHOLE_NUMBER = /^-?\d+$/;

/** A whole number from `min` to `max`. */
export function integer(min: bigint, max: bigint): ValueType {
  const upper = max === INT_MAX || max === LLONG_MAX ? undefined : max;
  return {
    kind: 'integer',
    allowed: upper === undefined ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${upper}`,
    normalize: (value) => {
      const text = value.trim();
      if (!WHOLE_NUMBER.test(text)) return undefined;
      const n = BigInt(text);
      return n >= min && n <= max ? n.toString() : undefined;
    },
  };
}

/** A decimal number greater than `above` and at most `max` (memcached's growth factor). */
export function decimal(above: number, max: number): ValueType {
  return {
    kind: 'decimal',
    allowed: `must be a number greater than ${above} and at most ${max}`,
    normalize: (value) => {
      const text = value.trim();
      if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
      const n = Number(text);
      return n > above && n <= max ? text : undefined;
    },
  };
}

/** Redis's boolean: `yes` or `no` (any case, as Redis reads it). */
export function yesNo(): ValueType {
  return {
    kind: 'boolean',
    allowed: 'must be yes or no',
    normalize: (value) => {
      const text = value.trim().toLowerCase();
      return text === 'yes' || text === 'no' ? text : undefined;
    },
  };
}

/** ElastiCache's Memcached boolean: `0` or `1`. */
export function zeroOne(): ValueType {
  return {
    kind: 'boolean',
    allowed: 'must be 0 or 1',
    normalize: (value) => {
      const text = value.trim();
      return text === '0' || text === '1' ? text : undefined;
    },
  };
}

/** One of a fixed list of words (any case, as the engines read them). */
export function oneOf(...values: string[]): ValueType {
  const allowed = values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(', ')}`;
  return {
    kind: 'enum',
    allowed,
    normalize: (value) => values.find((candidate) => candidate === value.trim().toLowerCase()),
  };
}

/** Redis's size units: `k` and `m` are powers of 1000, `kb` and `mb` powers of 1024 (redis.conf's own rule). */
const UNITS: Record<string, bigint> = {
  '': 1n,
  'k': 1000n,
  'kb': 1024n,
  'm': 1000n ** 2n,
  'mb': 1024n ** 2n,
  'g': 1000n ** 3n,
  'gb': 1024n ** 3n,
};

/** A size in bytes, as a number or with a Redis unit (`64mb`); the engine is given bytes. */
export function memory(min: bigint, max: bigint): ValueType {
  const range = max === LLONG_MAX ? `of at least ${formatBytes(min)}` : `from ${formatBytes(min)} to ${formatBytes(max)}`;
  return {
    kind: 'memory',
    allowed: `must be a size in bytes, or with a unit such as 64mb or 1gb, ${range}`,
    normalize: (value) => {
      const bytes = parseBytes(value);
      return bytes !== undefined && bytes >= min && bytes <= max ? bytes.toString() : undefined;
    },
  };
}

/** `maxmemory-clients`: a size as {@link memory}, or a percentage of `maxmemory`. */
export function memoryOrPercent(): ValueType {
  const size = memory(0n, LLONG_MAX);
  return {
    kind: 'memory-or-percent',
    allowed: 'must be a size in bytes, or with a unit such as 64mb, or a percentage of maxmemory from 1% to 100%',
    normalize: (value) => {
      const percent = /^(\d+)%$/.exec(value.trim());
      if (percent) {
        const n = Number(percent[1]);
        return n >= 1 && n <= 100 ? `${n}%` : undefined;
      }
      return size.normalize(value);
    },
  };
}

/** A power of two from `min` to `max` (memcached's `slab_chunk_max` must divide its 1 MiB slab pages). */
export function powerOfTwo(min: number, max: number): ValueType {
  return {
    kind: 'integer',
    allowed: `must be a power of two from ${min} to ${max}`,
    normalize: (value) => {
      const text = value.trim();
      if (!/^\d+$/.test(text)) return undefined;
      const n = Number(text);
      return n >= min && n <= max && Number.isInteger(Math.log2(n)) ? String(n) : undefined;
    },
  };
}

/** Redis's `save` rules: empty (no snapshots) or `<seconds> <changes>` pairs, seconds at least 1. */
export function saveRules(): ValueType {
  return {
    kind: 'save-rules',
    allowed: 'must be empty (no snapshots) or pairs of "<seconds> <changes>" such as "3600 1 300 100", seconds at least 1',
    normalize: (value) => {
      const text = value.trim();
      if (text === '' || text === '""') return '';
      const numbers = text.split(/\s+/);
      const valid = numbers.length % 2 === 0 && numbers.every((n, i) => /^\d+$/.test(n) && (i % 2 === 1 || BigInt(n) > 0n));
      return valid ? numbers.map((n) => BigInt(n).toString()).join(' ') : undefined;
    },
  };
}

/** A combination of single-letter classes, or empty (`notify-keyspace-events`). */
export function letters(allowedLetters: string): ValueType {
  return {
    kind: 'letters',
    allowed: `must be empty or a combination of the letters ${allowedLetters}`,
    normalize: (value) => {
      const text = value.trim();
      if (text === '""') return '';
      return [...text].every((letter) => allowedLetters.includes(letter)) ? text : undefined;
    },
  };
}

/** Space-separated percentiles from 0 to 100 (`latency-tracking-info-percentiles`), or empty. */
export function percentiles(): ValueType {
  return {
    kind: 'percentiles',
    allowed: 'must be empty or space-separated percentiles from 0 to 100, such as "50 99 99.9"',
    normalize: (value) => {
      const text = value.trim();
      if (text === '' || text === '""') return '';
      const numbers = text.split(/\s+/);
      const valid = numbers.every((n) => /^\d+(\.\d+)?$/.test(n) && Number(n) <= 100);
      return valid ? numbers.join(' ') : undefined;
    },
  };
}

/** Bytes from a number or a Redis unit, or `undefined` when the text is neither. */
export function parseBytes(value: string): bigint | undefined {
  const match = /^(\d+)([kmg]b?)?$/.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  return BigInt(match[1]) * UNITS[match[2] ?? ''];
}

/** A byte count in the largest binary unit that divides it: `1mb`, `16384`… (`16kb`). */
export function formatBytes(bytes: bigint): string {
  for (const unit of ['gb', 'mb', 'kb']) {
    if (bytes > 0n && bytes % UNITS[unit] === 0n) return `${bytes / UNITS[unit]}${unit}`;
  }
  return bytes.toString();
}

/** The same type with its own words for what is allowed (a single accepted value and why). */
export function explained(type: ValueType, allowed: string): ValueType {
  return { ...type, allowed };
}
