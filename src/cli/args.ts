/**
 * Flag parsing for the CLIs: `--name value`, `--name=value` and bare boolean `--flag`, validated by a
 * zod schema. Unknown flags and bad values get a message naming the flag and what it accepts.
 */
import { z } from 'zod';
import { WgnasError } from '../gpu/errors.js';

export class UsageError extends WgnasError {}

/** --help / -h: print the usage and exit 0. */
export class HelpRequested extends WgnasError {}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function parseArgs<S extends z.ZodObject>(argv: readonly string[], schema: S, usage: string): z.infer<S> {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(usage);
  const raw: Record<string, string | boolean> = {};
  const shape = schema.shape as Record<string, z.ZodType>;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"\n${usage}`);
    const eq = a.indexOf('=');
    const name = camel(eq > 0 ? a.slice(2, eq) : a.slice(2));
    if (!(name in shape)) {
      throw new UsageError(`unknown flag --${kebab(name)}. Flags: ${Object.keys(shape).map((k) => `--${kebab(k)}`).join(', ')}\n${usage}`);
    }
    if (eq > 0) raw[name] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) raw[name] = argv[++i];
    else raw[name] = true;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((iss) => {
      const flag = `--${kebab(String(iss.path[0] ?? ''))}`;
      const opts = (iss as { values?: unknown[] }).values;
      return `${flag}: ${iss.message}${opts ? ` (allowed: ${opts.join(', ')})` : ''}${raw[String(iss.path[0])] !== undefined ? ` — got "${raw[String(iss.path[0])]}"` : ''}`;
    });
    throw new UsageError(`${msgs.join('\n')}\n${usage}`);
  }
  return r.data;
}

/** zod helpers for flags (values arrive as strings) */
export const flag = {
  int: (min = 0) => z.coerce.number().int().min(min),
  num: () => z.coerce.number(),
  bool: () => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]),
  adapter: () => z.string().min(1).default('auto'),
};
