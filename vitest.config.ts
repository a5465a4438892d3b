import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // GPU suites need an adapter and fail loudly without one: no silent CPU fallback
    // no kernel tuning cache (wgnas tune) unless a test opens its device with { autotune: true }
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', WGNAS_AUTOTUNE: '0' },
  },
});
