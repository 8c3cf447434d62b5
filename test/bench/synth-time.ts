import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import { App } from 'aws-cdk-lib';
import { cachefleetApp, cachefleetBundleDirectories } from './cachefleet-app';
import { GROUPS_PER_STACK, stackCount } from './fleet-layout';
import { handWrittenApp } from './hand-written';
import { SynthMeasurement } from './results';
import { median, round } from '../shared/run-stats';

type Variant = SynthMeasurement['variant'];

/** A full collection before each sample, so that one sample's garbage is not collected in the next. */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Builds the app of a variant at a size, writing to `outdir`. */
type AppBuilder = (nodes: number, outdir: string) => App;

/** One timed sample: construct and `app.synth()` of a fresh app, milliseconds, and its resources by type. */
function sample(build: AppBuilder, nodes: number): { ms: number; resourcesByType: Record<string, number> } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-bench-synth-'));
  try {
    collectGarbage();
    const start = process.hrtime.bigint();
    const assembly = build(nodes, outdir).synth();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const resourcesByType: Record<string, number> = {};
    for (const stack of assembly.stacks) {
      for (const resource of Object.values<{ Type: string }>(stack.template.Resources ?? {})) {
        resourcesByType[resource.Type] = (resourcesByType[resource.Type] ?? 0) + 1;
      }
    }
    return { ms, resourcesByType };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

export interface SynthRun {
  readonly measurements: SynthMeasurement[];
  readonly sameResources: boolean;
}

/**
 * Both variants at every size, `runs` rounds after `warmUpRuns` untimed rounds (module loading,
 * JIT, the bundle cache), all in this process. Each round runs every (variant, size) once,
 * alternating the variants, so that drift falls on both alike.
 */
export function measureSynth(sizes: readonly number[], warmUpRuns: number, runs: number, progress: (line: string) => void): SynthRun {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-bench-bundles-'));
  let bundles: string[];
  try {
    bundles = cachefleetBundleDirectories(scratch);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const builders: Record<Variant, AppBuilder> = {
    'cachefleet': cachefleetApp,
    'hand-written': (nodes, outdir) => handWrittenApp(nodes, outdir, bundles),
  };
  const variants = Object.keys(builders) as Variant[];
  const samples = new Map<string, number[]>();
  const types = new Map<string, Record<string, number>>();
  const key = (variant: Variant, nodes: number) => `${variant}-${nodes}`;

  for (let run = -warmUpRuns; run < runs; run++) {
    for (const nodes of sizes) {
      // Odd rounds start with the other variant.
      const order = run % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const { ms, resourcesByType } = sample(builders[variant], nodes);
        if (run < 0) continue;
        samples.set(key(variant, nodes), [...(samples.get(key(variant, nodes)) ?? []), round(ms, 1)]);
        types.set(key(variant, nodes), sortedKeys(resourcesByType));
        progress(`  run ${run + 1}/${runs} ${variant.padEnd(12)} ${String(nodes).padStart(3)} nodes ${ms.toFixed(0).padStart(6)} ms`);
      }
    }
  }

  const measurements: SynthMeasurement[] = [];
  for (const variant of variants) {
    for (const nodes of sizes) {
      const resourcesByType = types.get(key(variant, nodes))!;
      const own = samples.get(key(variant, nodes))!;
      measurements.push({
        id: key(variant, nodes),
        variant,
        nodes,
        fleets: stackCount(nodes) * GROUPS_PER_STACK,
        stacks: stackCount(nodes),
        resources: Object.values(resourcesByType).reduce((sum, count) => sum + count, 0),
        resourcesByType,
        samplesMs: own,
        medianMs: round(median(own), 1),
      });
    }
  }
  const sameResources = sizes.every((nodes) => JSON.stringify(types.get(key('cachefleet', nodes))) === JSON.stringify(types.get(key('hand-written', nodes))));
  return { measurements, sameResources };
}

function sortedKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
