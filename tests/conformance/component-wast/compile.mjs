// Compiles the component forms of .wast scripts with jco's `parse` (WAT -> binary), the way
// ../shared/fixtures/component-model/compiled was made, and writes OUT/manifest.json for
// `cumulus component-wast --compiled OUT`. Scripts are named in the manifest as "t/<file>".
//   JCO_HOME=... node compile.mjs OUT script.wast...
import fs from 'node:fs';
import path from 'node:path';

const { parse } = await import(`${process.env.JCO_HOME}/dist/api.js`);
const [, , out, ...scripts] = process.argv;

// Top-level forms with their index, skipping comments and strings (as split_wast.py does).
function forms(src) {
  const res = [];
  let depth = 0, start = -1;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === ';' && src[i + 1] === ';') { const j = src.indexOf('\n', i); i = j < 0 ? src.length : j; continue; }
    if (c === '(' && src[i + 1] === ';') {
      let d = 1; i += 2;
      while (i < src.length && d) {
        if (src.startsWith('(;', i)) { d++; i += 2; } else if (src.startsWith(';)', i)) { d--; i += 2; } else i++;
      }
      i--; continue;
    }
    if (c === '"') { i++; while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1; continue; }
    if (c === '(') { if (depth === 0) start = i; depth++; }
    else if (c === ')') { depth--; if (depth === 0) res.push(src.slice(start, i + 1)); }
  }
  return res;
}

// The first `(component ...)` inside a form.
function innerComponent(t) {
  const i = t.indexOf('(component');
  if (i < 0) return null;
  let d = 0, s = false;
  for (let j = i; j < t.length; j++) {
    const c = t[j];
    if (s) { if (c === '\\') { j++; continue; } if (c === '"') s = false; }
    else if (c === '"') s = true;
    else if (c === '(') d++;
    else if (c === ')') { d--; if (d === 0) return t.slice(i, j + 1); }
  }
  return null;
}

fs.mkdirSync(out, { recursive: true });
const manifest = [];
let failed = 0;
for (const script of scripts) {
  const name = path.basename(script);
  forms(fs.readFileSync(script, 'utf8')).forEach((text, index) => {
    const head = (text.match(/^\(\s*([a-z_]+)/) || [])[1];
    let kind = null, body = null;
    if (head === 'component') {
      if (/^\(component\s+(\$\S+\s+)?(binary|quote|instance)\b/.test(text)) return;
      kind = 'component';
      body = text.replace(/^\(component\s+definition\b/, '(component');
    } else if (['assert_invalid', 'assert_unlinkable', 'assert_trap'].includes(head)) {
      body = innerComponent(text);
      if (!body) return;
      kind = head;
    } else {
      return;
    }
    const id = `${name.replace(/\.wast$/, '')}.${index}`;
    manifest.push({ id, kind, source_wast: `t/${name}`, form_index: index, file: `${id}.wasm`, async: false, body });
  });
}
for (const e of manifest) {
  try {
    fs.writeFileSync(path.join(out, e.file), await parse(e.body));
  } catch (err) {
    console.error(`${e.source_wast} form ${e.form_index}: ${String(err.message || err).split('\n')[0]}`);
    e.file = null;
    failed++;
  }
  delete e.body;
}
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 1));
process.exit(failed ? 1 : 0);
