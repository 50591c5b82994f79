import { createRequire } from "node:module";

type X509 = typeof import("@peculiar/x509");

let loaded: X509 | undefined;

/**
 * @peculiar/x509, loaded by the first certificate a process reads or makes: with tsyringe and the
 * Reflect metadata polyfill it resolves its algorithms through (which must come first), about
 * 20 MiB that most processes never need. Take its classes through this function only.
 */
export function x509(): X509 {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    require("reflect-metadata");
    loaded = require("@peculiar/x509") as X509;
  }
  return loaded;
}
