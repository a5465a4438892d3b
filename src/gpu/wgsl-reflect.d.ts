// wgsl_reflect's package "main" is a CommonJS file in a "type": "module" package, which Node's ESM
// loader rejects; its ES module build is imported directly and typed from the package's own types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
