import {
  catalogEntries,
  deliberateDifferences,
  memcachedArgs,
  resolveParameters,
  supportedFamilies,
} from '../../../src/core/parameters/resolve';

const value = (engine: Array<[string, string]>, name: string) => engine.filter(([n]) => n === name).map(([, v]) => v);

describe('resolveParameters', () => {
  test.each(supportedFamilies())('GIVEN no overrides for %s WHEN resolved THEN every engine parameter has its catalog default, in catalog order', (family) => {
    // WHEN
    const resolved = resolveParameters(family, {});

    // THEN
    const singles = catalogEntries(family).filter((spec) => spec.target === 'engine' && !spec.part && spec.since === undefined);
    const names = resolved.engine.map(([name]) => name);
    for (const spec of singles) expect(value(resolved.engine, spec.name)).toEqual([spec.defaultValue]);
    const positions = singles.map((spec) => names.indexOf(spec.name));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(resolved.explicit.size).toBe(0);
  });

  test('GIVEN no overrides WHEN resolved THEN the first directives are the catalog\'s first entries', () => {
    const resolved = resolveParameters('redis7', {});

    expect(resolved.engine.slice(0, 3)).toEqual([
      ['maxmemory-policy', 'volatile-lru'],
      ['maxmemory-samples', '3'],
      ['maxmemory-eviction-tenacity', '10'],
    ]);
  });

  test('GIVEN overrides WHEN resolved THEN they replace the defaults in place, in the engine\'s form, and are explicit', () => {
    // GIVEN
    const overrides = { 'timeout': '300', 'repl-backlog-size': '16mb', 'maxmemory-policy': 'ALLKEYS-LRU' };

    // WHEN
    const resolved = resolveParameters('valkey8', overrides);
    const defaults = resolveParameters('valkey8', {});

    // THEN
    expect(value(resolved.engine, 'timeout')).toEqual(['300']);
    expect(value(resolved.engine, 'repl-backlog-size')).toEqual(['16777216']);
    expect(value(resolved.engine, 'maxmemory-policy')).toEqual(['allkeys-lru']);
    expect(resolved.engine.map(([name]) => name)).toEqual(defaults.engine.map(([name]) => name));
    expect([...resolved.explicit].sort()).toEqual(['maxmemory-policy', 'repl-backlog-size', 'timeout']);
  });

  test('GIVEN ElastiCache\'s output buffer parameters WHEN resolved THEN each class is one client-output-buffer-limit line', () => {
    const resolved = resolveParameters('redis7', { 'client-output-buffer-limit-pubsub-hard-limit': '64mb' });

    expect(value(resolved.engine, 'client-output-buffer-limit')).toEqual([
      'normal 0 0 0',
      'replica 268435456 67108864 60',
      'pubsub 67108864 8388608 60',
    ]);
    expect(resolved.engine.some(([name]) => name.startsWith('client-output-buffer-limit-'))).toBe(false);
    expect(resolved.explicit).toEqual(new Set(['client-output-buffer-limit-pubsub-hard-limit']));
  });

  test('GIVEN parameters that are not the engine\'s WHEN resolved THEN they are not directives', () => {
    const resolved = resolveParameters('redis7', { 'reserved-memory-percent': '30', 'close-on-replica-write': 'no' });

    const names = resolved.engine.map(([name]) => name);
    expect(names).not.toContain('reserved-memory-percent');
    expect(names).not.toContain('close-on-replica-write');
    expect(names).not.toContain('replica-allow-chaining');
    expect(resolved.reservedMemoryPercent).toBe(30);
  });

  test.each([
    ['redis6.x', 25],
    ['redis7', 25],
    ['valkey7', 25],
    ['valkey8', 25],
    ['memcached1.6', 10],
  ])('GIVEN no override WHEN %s is resolved THEN the agent keeps %i%% of memory from the engine', (family, percent) => {
    expect(resolveParameters(family, {}).reservedMemoryPercent).toBe(percent);
  });

  test('GIVEN empty values WHEN resolved THEN they stay empty (the renderer writes "")', () => {
    const resolved = resolveParameters('redis7', {});

    expect(value(resolved.engine, 'save')).toEqual(['']);
    expect(value(resolved.engine, 'notify-keyspace-events')).toEqual(['']);
  });

  describe('engine versions', () => {
    test('GIVEN Redis 7.0 WHEN resolved THEN parameters added in 7.2 are left out', () => {
      const names = resolveParameters('redis7', {}, '7.0.15').engine.map(([name]) => name);

      expect(names).not.toContain('set-max-listpack-entries');
      expect(names).toContain('hash-max-listpack-entries');
    });

    test('GIVEN Redis 7.2 WHEN resolved THEN parameters added in 7.2 are in', () => {
      const resolved = resolveParameters('redis7', {}, '7.2.7');

      expect(value(resolved.engine, 'set-max-listpack-entries')).toEqual(['128']);
    });

    test('GIVEN no version WHEN resolved THEN defaults are those of the family\'s first version, explicit ones are kept', () => {
      expect(resolveParameters('redis7', {}).engine.map(([name]) => name)).not.toContain('set-max-listpack-entries');
      expect(value(resolveParameters('redis7', { 'set-max-listpack-entries': '64' }).engine, 'set-max-listpack-entries')).toEqual(['64']);
      expect(resolveParameters('valkey8', {}).engine.map(([name]) => name)).not.toContain('commandlog-reply-larger-than');
    });

    test('GIVEN Redis 7.0 WHEN a parameter added in 7.2 is set THEN it is refused', () => {
      expect(() => resolveParameters('redis7', { 'set-max-listpack-entries': '64' }, '7.0.15')).toThrow(
        '`parameters.set-max-listpack-entries` needs Redis 7.2 or later (the engine is Redis 7.0.15), got: "64"',
      );
    });

    test('GIVEN Valkey 8.1 WHEN resolved THEN its command log parameters are in', () => {
      const resolved = resolveParameters('valkey8', {}, '8.1.1');

      expect(value(resolved.engine, 'commandlog-large-request-max-len')).toEqual(['128']);
    });
  });

  describe('families', () => {
    test('GIVEN Redis 6 WHEN resolved THEN the encodings have their ziplist names and Redis 7\'s additions are absent', () => {
      const names = resolveParameters('redis6.x', {}, '6.2.17').engine.map(([name]) => name);

      expect(names).toContain('hash-max-ziplist-entries');
      expect(names).not.toContain('hash-max-listpack-entries');
      expect(names).not.toContain('latency-tracking');
      expect(names).not.toContain('maxmemory-clients');
      expect(names).toContain('acl-pubsub-default');
    });

    test('GIVEN Redis 6.0 WHEN resolved THEN parameters added in 6.2 are left out', () => {
      const names = resolveParameters('redis6.x', {}, '6.0.20').engine.map(([name]) => name);

      expect(names).not.toContain('acl-pubsub-default');
      expect(names).not.toContain('lazyfree-lazy-user-flush');
    });

    test('GIVEN Redis 6 WHEN resolved THEN its own defaults apply', () => {
      const resolved = resolveParameters('redis6.x', {});

      expect(value(resolved.engine, 'repl-diskless-sync')).toEqual(['no']);
      expect(value(resolveParameters('redis7', {}).engine, 'repl-diskless-sync')).toEqual(['yes']);
    });

    test('GIVEN Valkey 8 WHEN resolved THEN Valkey 8\'s defaults replace Valkey 7\'s and its additions follow', () => {
      const valkey7 = resolveParameters('valkey7', {});
      const valkey8 = resolveParameters('valkey8', {});

      expect(value(valkey7.engine, 'lazyfree-lazy-expire')).toEqual(['no']);
      expect(value(valkey8.engine, 'lazyfree-lazy-expire')).toEqual(['yes']);
      expect(value(valkey8.engine, 'repl-backlog-size')).toEqual(['10485760']);
      expect(value(valkey8.engine, 'extended-redis-compatibility')).toEqual(['yes']);
      expect(valkey8.engine.slice(0, valkey7.engine.length).map(([name]) => name)).toEqual(valkey7.engine.map(([name]) => name));
    });

    test('GIVEN an unknown family WHEN resolved THEN the engine is refused', () => {
      expect(() => resolveParameters('redis9', {})).toThrow(
        '`engine` must have a parameter group family cachefleet has a catalog for (redis6.x, redis7, valkey7, valkey8, memcached1.6), got: "redis9"',
      );
    });

    test('GIVEN an invalid override WHEN resolved THEN it is refused as ParameterGroup refuses it', () => {
      expect(() => resolveParameters('valkey8', { timeout: 'later' })).toThrow('`parameters.timeout` must be an integer of at least 0, got: "later"');
    });
  });
});

describe('memcachedArgs', () => {
  test('GIVEN the defaults WHEN turned into arguments THEN each parameter is one argument, memcached 1.6\'s modern features on', () => {
    const args = memcachedArgs(resolveParameters('memcached1.6', {}));

    expect(args).toEqual([
      '--max-item-size=1048576',
      '--extended=slab_chunk_max=524288',
      '--slab-min-size=48',
      '--slab-growth-factor=1.25',
      '--conn-limit=65000',
      '--listen-backlog=1024',
      '--protocol=auto',
      '--max-reqs-per-event=20',
      '--threads=4',
      '--extended=hash_algorithm=murmur3',
      '--extended=hashpower=16',
      '--extended=slab_reassign',
      '--extended=slab_automove=1',
      '--extended=lru_crawler',
      '--extended=lru_maintainer',
      '--extended=maxconns_fast',
      '--extended=idle_timeout=0',
      '--extended=watcher_logbuf_size=256',
    ]);
  });

  test('GIVEN flags set WHEN turned into arguments THEN each is a bare flag', () => {
    const args = memcachedArgs(
      resolveParameters('memcached1.6', {
        cas_disabled: '1',
        error_on_memory_exhausted: '1',
        disable_flush_all: '1',
        large_memory_pages: '1',
        lock_down_paged_memory: '1',
        maximize_core_file_limit: '1',
        track_sizes: '1',
      }),
    );

    expect(args).toEqual(
      expect.arrayContaining([
        '--disable-cas',
        '--disable-evictions',
        '--disable-flush-all',
        '--enable-largepages',
        '--lock-memory',
        '--enable-coredumps',
        '--extended=track_sizes',
      ]),
    );
  });

  test('GIVEN no_modern WHEN turned into arguments THEN it comes first and its preset shows, but an explicit value wins', () => {
    const args = memcachedArgs(resolveParameters('memcached1.6', { no_modern: '1', lru_crawler: '1' }));

    expect(args[0]).toBe('--extended=no_modern');
    expect(args).toEqual(
      expect.arrayContaining([
        '--extended=slab_chunk_max=1048576',
        '--extended=hash_algorithm=jenkins',
        '--extended=no_slab_reassign',
        '--extended=slab_automove=0',
        '--extended=no_lru_maintainer',
        '--extended=no_maxconns_fast',
        '--extended=lru_crawler',
      ]),
    );
    expect(args).not.toContain('--extended=no_lru_crawler');
  });

  test('GIVEN worker_logbuf_size WHEN turned into arguments THEN it is never passed (memcached would replace its slab classes)', () => {
    const args = memcachedArgs(resolveParameters('memcached1.6', { worker_logbuf_size: '64' }));

    expect(args.some((arg) => arg.includes('worker_logbuf_size'))).toBe(false);
  });

  test('GIVEN a fleet plan\'s parameters WHEN turned into arguments THEN the same arguments come out', () => {
    const resolved = resolveParameters('memcached1.6', { max_item_size: '4194304' });

    expect(memcachedArgs({ family: 'memcached1.6', engine: resolved.engine })).toEqual(memcachedArgs(resolved));
  });

  test('GIVEN a name that is not a Memcached parameter WHEN turned into arguments THEN it throws', () => {
    expect(() => memcachedArgs({ family: 'memcached1.6', engine: [['maxmemory-policy', 'noeviction']] })).toThrow(
      '"maxmemory-policy" is not a Memcached parameter of the memcached1.6 family',
    );
  });
});

describe('catalogEntries and deliberateDifferences', () => {
  test('GIVEN a family WHEN its deliberate differences are listed THEN each records the server\'s default and a reason', () => {
    const differences = deliberateDifferences('redis7');

    expect(differences.map((spec) => spec.name)).toEqual(
      expect.arrayContaining(['maxmemory-policy', 'maxmemory-samples', 'maxclients', 'save', 'latency-tracking']),
    );
    expect(differences.find((spec) => spec.name === 'maxmemory-policy')!.defaultDiffers!.engineDefault).toBe('noeviction');
  });

  test('GIVEN the families WHEN listed THEN they are ElastiCache\'s names', () => {
    expect(supportedFamilies()).toEqual(['redis6.x', 'redis7', 'valkey7', 'valkey8', 'memcached1.6']);
  });
});
