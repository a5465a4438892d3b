/** The op library: one module per shader family. Each op checks shapes, dispatches and records its backward. */
export {};
