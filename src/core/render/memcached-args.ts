import { memcachedArgs } from '../parameters/resolve';
import { FleetPlan } from '../topology';
import { placeholder } from './placeholders';
import { requireEngine } from './plan-facts';

/**
 * `memcached.args`: memcached's arguments, one per line, each a single argument (`--option=value`)
 * so that no line needs splitting. The node listens on its slot's address only, over TCP (UDP off:
 * it amplifies reflection attacks and no client of this fleet needs it), with the item memory the
 * agent computes; then the parameters, as the catalog maps them to arguments. `--user` is the
 * agent's to add: only it knows whether it runs as root.
 */
export function renderMemcachedArgs(plan: FleetPlan): string {
  requireEngine(plan, 'memcached', 'memcached.args');
  const args = [
    `--listen=${placeholder('address')}`,
    `--port=${plan.port}`,
    '--udp-port=0',
    `--memory-limit=${placeholder('memory-mb')}`,
    ...memcachedArgs({ family: plan.engine.parameterGroupFamily, engine: plan.engineParameters }),
  ];
  const split = args.find((arg) => arg === '' || /[\s\u0000-\u001f\u007f]/.test(arg));
  if (split !== undefined) throw new Error(`memcached argument ${JSON.stringify(split)} of fleet "${plan.name}" would not stay one line and one argument`);
  return args.map((arg) => `${arg}\n`).join('');
}
