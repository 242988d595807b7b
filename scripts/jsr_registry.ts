// A local package registry laid out as JSR's, holding sam exactly as `deno publish` would
// upload it, so that a program importing "jsr:@x/sam" runs against it as against jsr.io.
// Deno reads the registry's address from JSR_URL.
//
//   deno run --allow-all scripts/jsr_registry.ts [dir]   builds it, serves it, prints JSR_URL
//
// Layout (what Deno asks for): <scope>/<name>/meta.json (versions), <version>_meta.json (the
// manifest of files with their sizes and sha256 checksums, and the exports), then each file
// under <version>/.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, sep } from "node:path";
import process from "node:process";
import { packageConfig, publishedFiles, ROOT } from "./_published.ts";

/** Writes sam, as `deno publish` would upload it from `root`, into a registry at `dir`. */
export function buildRegistry(dir: string, root: string = ROOT): void {
  const { name, version, exports } = packageConfig(root);
  const base = join(dir, ...name.split("/"));
  const manifest: Record<string, { size: number; checksum: string }> = {};
  for (const file of publishedFiles(root)) {
    const bytes = readFileSync(join(root, file));
    const target = join(base, version, file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes);
    const checksum = `sha256-${createHash("sha256").update(bytes).digest("hex")}`;
    manifest[`/${file}`] = { size: bytes.byteLength, checksum };
  }
  const [scope, pkg] = name.slice(1).split("/");
  writeFileSync(
    join(base, "meta.json"),
    JSON.stringify({ scope, name: pkg, latest: version, versions: { [version]: {} } }),
  );
  writeFileSync(join(base, `${version}_meta.json`), JSON.stringify({ manifest, exports }));
}

/** A registry being served; `url` is what JSR_URL is set to. */
export interface ServedRegistry extends AsyncDisposable {
  /** The registry's address, ending with "/". */
  url: string;
}

/** Serves the registry at `dir` on a loopback port until disposed. */
export async function serveRegistry(dir: string): Promise<ServedRegistry> {
  const server = createServer((request, response) => {
    const path = normalize(
      join(dir, decodeURIComponent(new URL(request.url!, "http://x").pathname)),
    );
    if (!path.startsWith(dir + sep)) return response.writeHead(403).end();
    try {
      const bytes = readFileSync(path);
      const type = path.endsWith(".json") ? "application/json" : "application/typescript";
      response.writeHead(200, { "content-type": type }).end(bytes);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "sam-jsr-"));
  buildRegistry(dir);
  const served = await serveRegistry(dir);
  console.log(`JSR_URL=${served.url}`);
}
