/** `wgnas <command>`: devices, train, bench, tune, search, lut, latency, predictor. */
import { WgnasError } from '../gpu/errors.js';
import { HelpRequested, UsageError } from './args.js';
import { devicesCommand } from './devices.js';

type Command = (argv: readonly string[]) => Promise<void>;

const COMMANDS: Record<string, { help: string; load: () => Promise<Command> }> = {
  devices: { help: 'list WebGPU adapters (vendor, architecture, kind, features, limits)', load: async () => devicesCommand },
  search: { help: 'architecture search → derive → retrain → evaluate (same as node search.js)', load: async () => (await import('./search.js')).searchCommand },
  train: { help: 'train a small CNN on the GPU (default: Fashion-MNIST) and report test accuracy', load: async () => (await import('./train.js')).trainCommand },
  predictor: { help: 'train / evaluate the GNN latency predictor on a measured table (e.g. HW-NAS-Bench)', load: async () => (await import('./predictor.js')).predictorCommand },
  bench: { help: 'kernel latency benchmark (same flags as node kernels-bench/run.js)', load: async () => (await import('../../kernels-bench/bench.js')).benchMain },
  tune: { help: 'autotune conv2d / GEMM kernel variants on this adapter (checked against naive, timed) and write its tuning cache', load: async () => (await import('./tune.js')).tuneCommand },
  lut: { help: 'build the latency LUT of the NB201 network on this adapter (every part profiled with timestamp queries)', load: async () => (await import('./lut.js')).lutCommand },
  latency: { help: 'measure whole NB201 networks (--arch STR, or --sample K vs a LUT → CSV for the predictor)', load: async () => (await import('./latency.js')).latencyCommand },
};

export function usage(): string {
  return ['usage: wgnas <command> [flags]', '', 'commands:', ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(10)} ${v.help}`)].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 1;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    console.error(`unknown command "${cmd}"\n${usage()}`);
    return 2;
  }
  return run(() => entry.load().then((c) => c(rest)));
}

/** Runs a command; wgnas errors print their message (no stack) and exit non-zero. */
export async function run(fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(e.message);
      return 0;
    }
    if (e instanceof UsageError) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof WgnasError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export const COMMAND_TABLE = COMMANDS;
