import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Command } from 'commander';

import { parsePositiveInteger } from './support.js';

/**
 * Sums the self time of a V8 CPU profile (`node --cpu-prof`) by package and
 * by function, and prints the largest shares. A package is the npm package of
 * the script (`node_modules/<name>`), `src` for this project's code, `node:`
 * for Node.js internals, or V8's own entries such as `(garbage collector)`.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Names the package that `url` belongs to. */
function packageOf(node: ProfileNode, projectRoot: string): string {
  const { url, functionName } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:';

  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const relative = path.relative(projectRoot, file);
  return relative.startsWith('..') ? file : relative.split(path.sep).slice(0, 2).join('/');
}

function functionOf(node: ProfileNode, projectRoot: string): string {
  const { url, functionName, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (url === '') return name;
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = file.lastIndexOf('/node_modules/');
  const short =
    modules >= 0 ? file.slice(modules + '/node_modules/'.length) : path.relative(projectRoot, file);
  return `${name} ${short}:${lineNumber + 1}`;
}

/** Adds `micros` to `key` of `totals`. */
function add(totals: Map<string, number>, key: string, micros: number): void {
  totals.set(key, (totals.get(key) ?? 0) + micros);
}

function printShares(title: string, totals: Map<string, number>, total: number, top: number): void {
  console.log(`\n${title}`);
  const sorted = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, micros] of sorted) {
    const share = ((100 * micros) / total).toFixed(1).padStart(5);
    console.log(`${share} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  }
}

function main(): void {
  const program = new Command()
    .name('tsx bench/cpu-profile.ts')
    .description('Sum the self time of a .cpuprofile file by package and by function.')
    .argument('<file>', 'profile written by node --cpu-prof')
    .option('--top <count>', 'rows printed per table', parsePositiveInteger, 30)
    .option('--project-root <folder>', 'checkout whose src/ the profiled process ran', process.cwd())
    .option(
      '--inclusive <names>',
      'comma-separated function names whose total time (with their callees) is also printed',
      (value: string) => value.split(',').map((name) => name.trim()),
    );
  program.parse();
  const [file] = program.args as [string];
  const options = program.opts<{ top: number; projectRoot: string; inclusive?: string[] }>();

  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;

  // timeDeltas[i] is the time before sample i, so it is charged to sample i (as Chrome DevTools does).
  for (let index = 0; index < profile.samples.length; index++) {
    const node = nodes.get(profile.samples[index]!)!;
    const micros = Math.max(0, profile.timeDeltas[index] ?? 0);
    total += micros;
    if (node.callFrame.functionName === '(idle)') idle += micros;
    add(byPackage, packageOf(node, options.projectRoot), micros);
    add(byFunction, functionOf(node, options.projectRoot), micros);
  }

  console.log(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((100 * idle) / total).toFixed(1)} % idle; ` +
      'shares below are of all samples, idle included',
  );
  printShares('self time by package', byPackage, total, options.top);
  printShares('self time by function', byFunction, total, options.top);
  if (options.inclusive) {
    printShares(
      'total time of functions with their callees',
      inclusiveTimes(profile, nodes, options.inclusive),
      total,
      options.top,
    );
  }
}

/**
 * Sums, for each of `names`, the samples whose stack contains a function of
 * that name. A sample counts once per name, even when the function recurses.
 */
function inclusiveTimes(
  profile: CpuProfile,
  nodes: Map<number, ProfileNode>,
  names: string[],
): Map<string, number> {
  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  const totals = new Map<string, number>();
  for (let index = 0; index < profile.samples.length; index++) {
    const micros = Math.max(0, profile.timeDeltas[index] ?? 0);
    const onStack = new Set<string>();
    for (let id: number | undefined = profile.samples[index]; id !== undefined; id = parents.get(id)) {
      const name = nodes.get(id)!.callFrame.functionName;
      if (names.includes(name)) onStack.add(name);
    }
    for (const name of onStack) add(totals, name, micros);
  }
  return totals;
}

main();
