// TypeScript resolves "./torch.mjs" to this file: the declarations are in torch.d.ts.
export * from "./torch.js";
