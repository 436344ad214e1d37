// Polars (nodejs-polars) on the other side of our IPC files. Driven by
// tests/interop/polars.c:
//
//   node polars.mjs check <dir>   reads every file named in <dir>/expected.json (written
//                                 by our writer; Buffers, not paths) and compares every
//                                 column, value by value, with the JSON our side produced
//   node polars.mjs write <dir>   writes pl.arrows (writeIPCStream), pl.arrow (writeIPC)
//                                 and pl.zstd.arrow / pl.lz4.arrow (compressed bodies), and
//                                 pl.expected.json: the values, computed from the same
//                                 formulas the frame was built from
//
// Values are compared in the plain JSON form of zcp_json_value (arrow_json.h). Polars
// turns some Arrow types into its own (times into nanoseconds, dictionaries into
// categoricals, maps into lists of structs, decimals into scaled text): the conversions
// back are below, driven by the Arrow format string our side records per column.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';

const text = (v) => (v === null || v === undefined ? null : String(v));

// Scaled decimal text ("-48.99") to the unscaled integer string ("-4899").
function unscaled(s, scale) {
  if (s === null) return null;
  const neg = s.startsWith('-');
  let [whole, frac = ''] = s.replace('-', '').split('.');
  frac = (frac + '0'.repeat(scale)).slice(0, scale);
  const digits = (whole + frac).replace(/^0+(?=\d)/, '');
  return neg && digits !== '0' ? `-${digits}` : digits;
}

// A nested value (from toArray) in the plain form, given its Arrow format.
function plain(v, format) {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => plain(x, 'i'));
  if (typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' || x === null ? x : plain(x, 'i');
    return out;
  }
  if (typeof v === 'number' && (format === 'f' || format === 'g')) return v;
  if (typeof v === 'boolean') return v;
  return String(v);
}

// Every value of column `name` of a frame in the plain form.
function columnValues(df, name, format) {
  const s = df.getColumn(name);
  const nulls = s.isNull().toArray();
  let values;
  const f = format;
  if (f.startsWith('d:')) {
    const scale = Number(f.split(',')[1]);
    values = s.cast(pl.Utf8).toArray().map((x) => unscaled(x, scale));
  } else if (f === 'tdD') {
    values = s.cast(pl.Int32).toArray().map(text);
  } else if (f.startsWith('ts') || f === 'tdm' || f.startsWith('tD')) {
    values = s.cast(pl.Int64).toArray().map(text); // Polars keeps the unit
  } else if (f.startsWith('tt')) { // Polars times are nanoseconds since midnight
    const per = { s: 1000000000n, m: 1000000n, u: 1000n, n: 1n }[f[2]];
    values = s.cast(pl.Int64).toArray().map((x) => (x === null ? null : (BigInt(x) / per).toString()));
  } else if (f === '+m') {
    values = s.toArray().map((l) => (l === null ? null : l.map((e) => [e.key, text(e.value)])));
  } else if (['f', 'g', 'b', 'u', 'U', 'vu'].includes(f)) {
    values = s.toArray();
  } else if (f === 'n') {
    values = s.toArray().map(() => null);
  } else if (f === '+s') {
    values = s.toArray().map((x) => plain(x, f));
  } else if (f.startsWith('+')) {
    values = s.toArray().map((x) => plain(x, f));
  } else {
    values = s.toArray().map(text); // integers and dictionary indices' values
  }
  return values.map((v, i) => (nulls[i] ? null : v));
}

// Dictionary-encoded columns: Polars makes categoricals; compare their strings.
function castCategoricals(df) {
  const cats = df.columns.filter((c) => String(df.getColumn(c).dtype).startsWith('DataType(Categorical'));
  return cats.length ? df.withColumns(...cats.map((c) => pl.col(c).cast(pl.Utf8))) : df;
}

function diff(want, got, path = '') {
  if (typeof want === 'number' && typeof got === 'number') return want === got ? null : `${path}: ${got}, expected ${want}`;
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      return `${path}: ${JSON.stringify(got)?.slice(0, 200)}, expected ${JSON.stringify(want).slice(0, 200)}`;
    }
    for (let k = 0; k < want.length; k++) {
      const d = diff(want[k], got[k], `${path}[${k}]`);
      if (d) return d;
    }
    return null;
  }
  if (want !== null && typeof want === 'object') {
    if (got === null || typeof got !== 'object') return `${path}: ${JSON.stringify(got)}, expected an object`;
    for (const k of Object.keys(want)) {
      const d = diff(want[k], got[k], `${path}.${k}`);
      if (d) return d;
    }
    return Object.keys(got).length === Object.keys(want).length ? null : `${path}: extra keys`;
  }
  return want === got ? null : `${path}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
}

function check(dir) {
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  let failures = 0;
  for (const [file, spec] of Object.entries(expected.files)) {
    const bytes = readFileSync(join(dir, file));
    let df;
    try {
      df = castCategoricals(spec.format === 'file' ? pl.readIPC(bytes) : pl.readIPCStream(bytes));
    } catch (e) {
      console.log(`FAIL ${file}: Polars cannot read it: ${e.message}`);
      failures++;
      continue;
    }
    const bad = [];
    if (df.height !== spec.rows) bad.push(`${df.height} rows, expected ${spec.rows}`);
    for (const [name, want] of Object.entries(spec.columns)) {
      let d;
      try {
        d = diff(want, columnValues(df, name, spec.formats[name]), name);
      } catch (e) {
        d = `${name}: ${e.message}`;
      }
      if (d) bad.push(d);
    }
    if (bad.length) {
      failures++;
      console.log(`FAIL ${file}: ${bad.length} differences\n  ${bad.join('\n  ')}`);
    } else {
      const types = df.columns.map((c) => `${c}:${String(df.getColumn(c).dtype).replace(/DataType\((.*)\)/, '$1')}`);
      console.log(`ok ${file}: ${df.height} rows, ${df.width} columns (${types.join(' ')})`);
    }
  }
  return failures === 0 ? 0 : 1;
}

// Cents as decimal text with two digits after the point ("-4.63").
function centsText(c) {
  const a = Math.abs(c);
  return `${c < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

// The frame Polars writes: several types, nulls every 4th row, values from the row. Its
// decimal(9, 2) column is written as decimal128: Polars has no narrower decimals. Its two
// categorical columns get a dictionary id each, even where they hold the same words.
function write(dir) {
  const n = 1500;
  const rows = [...Array(n).keys()];
  const nul = (r) => r % 4 === 1;
  const opt = (f) => rows.map((r) => (nul(r) ? null : f(r)));
  const frame = (lo, hi) => pl.DataFrame([
    pl.Series('i32', opt((r) => r * 3 - 1000), pl.Int32),
    pl.Series('i64', opt((r) => r * 1000003), pl.Int64),
    pl.Series('u8', opt((r) => r % 256), pl.UInt8),
    pl.Series('f64', opt((r) => r / 16), pl.Float64),
    pl.Series('flag', opt((r) => r % 3 === 0), pl.Bool),
    pl.Series('name', opt((r) => `polars-${r}-${'x'.repeat(r % 20)}`), pl.Utf8),
    pl.Series('day', opt((r) => new Date(Date.UTC(2020, 0, 1) + r * 86400000)), pl.Date),
    pl.Series('ts', opt((r) => new Date(1600000000000 + r * 1234)), pl.Datetime('ms')),
    pl.Series('ints', opt((r) => [...Array(r % 3).keys()].map((k) => r * 10 + k)), pl.List(pl.Int64)),
    pl.Series('color', opt((r) => ['red', 'green', 'blue', 'cyan'][r % 4]), pl.Utf8),
    pl.Series('dec', opt((r) => centsText(r * 37 - 500)), pl.Utf8),
    pl.Series('shade', opt((r) => ['light', 'dark', 'red'][r % 3]), pl.Utf8),
  ].map((s) => s.slice(lo, hi - lo))).withColumns(pl.col('color').cast(pl.Categorical),
                                                  pl.col('shade').cast(pl.Categorical),
                                                  pl.col('dec').cast(pl.Decimal(9, 2)));
  // Two chunks, so that the stream and file hold two record batches.
  const df = frame(0, 900).vstack(frame(900, n));
  const expected = {
    i32: opt((r) => String(r * 3 - 1000)),
    i64: opt((r) => String(r * 1000003)),
    u8: opt((r) => String(r % 256)),
    f64: opt((r) => r / 16),
    flag: opt((r) => r % 3 === 0),
    name: opt((r) => `polars-${r}-${'x'.repeat(r % 20)}`),
    day: opt((r) => String(18262 + r)),
    ts: opt((r) => String(1600000000000 + r * 1234)),
    ints: opt((r) => [...Array(r % 3).keys()].map((k) => String(r * 10 + k))),
    color: opt((r) => ['red', 'green', 'blue', 'cyan'][r % 4]),
    dec: opt((r) => String(r * 37 - 500)),
    shade: opt((r) => ['light', 'dark', 'red'][r % 3]),
  };
  writeFileSync(join(dir, 'pl.arrows'), df.writeIPCStream());
  writeFileSync(join(dir, 'pl.arrow'), df.writeIPC());
  writeFileSync(join(dir, 'pl.zstd.arrow'), df.writeIPC({ compression: 'zstd' }));
  writeFileSync(join(dir, 'pl.lz4.arrow'), df.writeIPC({ compression: 'lz4' }));
  writeFileSync(join(dir, 'pl.expected.json'), JSON.stringify({ rows: n, columns: expected }));
  const types = df.columns.map((c) => `${c}:${String(df.getColumn(c).dtype).replace(/DataType\((.*)\)/, '$1')}`);
  console.log(`ok wrote ${n} rows: ${types.join(' ')}`);
  return 0;
}

const [mode, dir] = process.argv.slice(2);
process.exitCode = mode === 'check' ? check(dir) : mode === 'write' ? write(dir) : 2;
