// Parses a Mermaid flowchart with mermaid's own flowchart grammar and database (no DOM needed):
// prints the vertices and edges it read as JSON, exits 1 on a syntax error.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
const require = createRequire(import.meta.url);
// Sanitising belongs to rendering (it needs a DOM); parsing does not depend on it.
const { default: DOMPurify } = await import("dompurify");
for (const name of ["addHook", "removeHook", "removeHooks", "removeAllHooks"]) DOMPurify[name] = () => {};
DOMPurify.sanitize = (text) => text;
const chunks = join(dirname(require.resolve("mermaid/package.json")), "dist", "chunks", "mermaid.core");
const flow = readdirSync(chunks).find((name) => /^flowDiagram-.*\.mjs$/.test(name));
const { diagram } = await import(pathToFileURL(join(chunks, flow)).href);
const text = readFileSync(process.argv[2], "utf8");
const db = diagram.db;
diagram.parser.parser.yy = db;
if (db.clear) db.clear();
const interactions = []; // click callbacks and links: a hostile label must never create one
for (const name of ["setClickEvent", "setLink", "setClickFun"]) {
  if (typeof db[name] === "function") db[name] = (...args) => { interactions.push([name, ...args]); };
}
try {
  diagram.parser.parse(text);
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String((error && error.message) || error) }));
  process.exit(1);
}
const vertices = [...db.getVertices().values()].map((v) => ({ id: v.id, text: v.text, classes: v.classes }));
const edges = db.getEdges().map((e) => ({ start: e.start, end: e.end, text: e.text, stroke: e.stroke }));
const classes = [...(db.getClasses ? db.getClasses().keys() : [])];
const directives = text.split("\n").filter((line) => line.includes("%%")).length;
console.log(JSON.stringify({ ok: true, vertices, edges, classes, interactions, directives }));
