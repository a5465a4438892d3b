import { describe, expect, it } from 'vitest';
import { HelpRequested, parseArgs, UsageError } from '../../src/cli/args.js';
import { SearchFlags } from '../../src/cli/search.js';

describe('CLI flags (zod)', () => {
  it('defaults: an NB201 search with the ordered sampler on Fashion-MNIST', () => {
    const o = parseArgs([], SearchFlags, 'usage');
    expect([o.space, o.sampler, o.optim, o.dataset, o.adapter]).toEqual(['nb201', 'ordered', 'one-level', 'fashion-mnist', 'auto']);
  });

  it('parses --name value, --name=value and bare booleans; coerces numbers', () => {
    const o = parseArgs(['--sampler', 'mixture', '--epochs=7', '--resume', '--arch-lr', '0.01'], SearchFlags, 'usage');
    expect([o.sampler, o.epochs, o.resume, o.archLr]).toEqual(['mixture', 7, true, 0.01]);
  });

  it('a wrong value names the flag and the allowed values', () => {
    expect(() => parseArgs(['--sampler', 'foo'], SearchFlags, 'usage')).toThrow(UsageError);
    expect(() => parseArgs(['--sampler', 'foo'], SearchFlags, 'usage')).toThrow(/--sampler.*ordered, gumbel, binary, mixture.*got "foo"/);
    expect(() => parseArgs(['--epochs', '-3'], SearchFlags, 'usage')).toThrow(/--epochs/);
    expect(() => parseArgs(['--epochs', 'many'], SearchFlags, 'usage')).toThrow(/--epochs/);
  });

  it('an unknown flag is named, with the list of flags', () => {
    expect(() => parseArgs(['--epoch', '3'], SearchFlags, 'usage')).toThrow(/unknown flag --epoch\. Flags: .*--epochs/);
    expect(() => parseArgs(['stray'], SearchFlags, 'usage')).toThrow(/unexpected argument "stray"/);
  });

  it('--help returns the usage', () => {
    expect(() => parseArgs(['--help'], SearchFlags, 'the usage')).toThrow(HelpRequested);
  });
});
