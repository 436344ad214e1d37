// Arrow JS on the other side of our IPC files. Driven by tests/interop/arrow_js.c:
//
//   node arrow_js.mjs check <dir>   reads every file named in <dir>/expected.json (written
//                                   by our writer) and compares each column, value by
//                                   value, with the JSON our side produced
//   node arrow_js.mjs write <dir>   writes js.arrows (stream) and js.arrow (file) with
//                                   several types and nulls, and js.expected.json: the
//                                   values Arrow JS holds, for our reader to match
//
// Values are compared in a plain JSON form (see zcp_json_value in arrow_json.h): integers
// of every width and temporal values as decimal strings, floats as numbers, binary as hex,
// lists as arrays, structs as objects, dictionaries as their values. They are taken from
// the decoded buffers (not the convenience getters, which turn timestamps into lossy
// milliseconds), so the check is of what Arrow JS's reader decoded.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as A from 'apache-arrow';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const hex = (bytes) => Buffer.from(bytes).toString('hex');

function bitSet(bitmap, j) {
  return ((bitmap[j >> 3] >> (j & 7)) & 1) === 1;
}

// A 64-bit integer at index j of a typed array (BigInt64Array, or 32-bit pairs).
function int64At(values, j, stride) {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return values[j];
  if (stride === 2) {
    const lo = BigInt(values[2 * j] >>> 0);
    const hi = BigInt.asIntN(32, BigInt(values[2 * j + 1]));
    return (hi << 32n) | lo;
  }
  return BigInt(values[j]);
}

// Little-endian two's complement words (Uint32Array) as a decimal string.
function decimalText(words, first, count) {
  let x = 0n;
  for (let k = count - 1; k >= 0; k--) x = (x << 32n) | BigInt(words[first + k] >>> 0);
  return BigInt.asIntN(32 * count, x).toString();
}

function halfToNumber(h) {
  const exp = (h >> 10) & 0x1f, mant = h & 0x3ff, sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// Element at logical index i of a Data chunk, in the plain JSON form. Arrow JS slices
// value, offset and type-id buffers (and the children of structs, fixed-size lists and
// sparse unions) when it slices Data; only validity bitmaps and boolean values are
// addressed through data.offset.
function canon(data, i) {
  const t = data.type;
  const j = data.offset + i;
  const id = t.typeId;
  if (id === A.Type.Null) return null;
  const isUnion = id === A.Type.Union || id === A.Type.DenseUnion || id === A.Type.SparseUnion;
  if (!isUnion && data.nullBitmap && data.nullBitmap.length > 0 && !bitSet(data.nullBitmap, j)) {
    return null;
  }
  if (A.DataType.isDictionary(t)) {
    const index = Number(data.values[i]);
    let k = index;
    for (const chunk of data.dictionary.data) {
      if (k < chunk.length) return canon(chunk, k);
      k -= chunk.length;
    }
    throw new Error(`dictionary index ${index} out of range`);
  }
  if (A.DataType.isInt(t) || A.DataType.isDate(t) || A.DataType.isTime(t) ||
      A.DataType.isTimestamp(t) || A.DataType.isDuration(t)) {
    const wide = (t.bitWidth ?? 32) === 64 || A.DataType.isTimestamp(t) ||
                 A.DataType.isDuration(t) || (A.DataType.isDate(t) && t.unit === A.DateUnit.MILLISECOND);
    return wide ? int64At(data.values, i, data.stride).toString() : String(data.values[i]);
  }
  if (A.DataType.isFloat(t)) {
    return t.precision === A.Precision.HALF ? halfToNumber(data.values[i]) : Number(data.values[i]);
  }
  if (A.DataType.isBool(t)) return bitSet(data.values, j);
  if (A.DataType.isDecimal(t)) {
    const words = t.bitWidth / 32;
    return decimalText(data.values, i * words, words);
  }
  if (A.DataType.isInterval(t)) {
    const v = data.values;
    if (t.unit === A.IntervalUnit.YEAR_MONTH) return String(v[i]);
    if (t.unit === A.IntervalUnit.DAY_TIME) return [String(v[2 * i]), String(v[2 * i + 1])];
    const ns = (BigInt.asIntN(32, BigInt(v[4 * i + 3])) << 32n) | BigInt(v[4 * i + 2] >>> 0);
    return [String(v[4 * i]), String(v[4 * i + 1]), ns.toString()];
  }
  if (id === A.Type.Utf8 || id === A.Type.LargeUtf8 || id === A.Type.Binary ||
      id === A.Type.LargeBinary) {
    const start = Number(data.valueOffsets[i]), end = Number(data.valueOffsets[i + 1]);
    const bytes = data.values.subarray(start, end);
    return id === A.Type.Utf8 || id === A.Type.LargeUtf8 ? utf8.decode(bytes) : hex(bytes);
  }
  if (id === A.Type.Utf8View || id === A.Type.BinaryView) {
    const v = A.makeVector(data).get(i);
    return id === A.Type.Utf8View ? v : hex(v);
  }
  if (A.DataType.isFixedSizeBinary(t)) {
    return hex(data.values.subarray(i * t.byteWidth, (i + 1) * t.byteWidth));
  }
  if (A.DataType.isList(t) || id === A.Type.LargeList) {
    const start = Number(data.valueOffsets[i]), end = Number(data.valueOffsets[i + 1]);
    const out = [];
    for (let k = start; k < end; k++) out.push(canon(data.children[0], k));
    return out;
  }
  if (A.DataType.isFixedSizeList(t)) {
    const out = [];
    for (let k = 0; k < t.listSize; k++) out.push(canon(data.children[0], i * t.listSize + k));
    return out;
  }
  if (A.DataType.isMap(t)) {
    const entries = data.children[0];
    const start = Number(data.valueOffsets[i]), end = Number(data.valueOffsets[i + 1]);
    const out = [];
    for (let k = start; k < end; k++) {
      out.push([canon(entries.children[0], k), canon(entries.children[1], k)]);
    }
    return out;
  }
  if (A.DataType.isStruct(t)) {
    const out = {};
    t.children.forEach((f, c) => { out[f.name] = canon(data.children[c], i); });
    return out;
  }
  if (isUnion) {
    const typeId = data.typeIds[i];
    const c = t.typeIdToChildIndex[typeId];
    const dense = t.mode === A.UnionMode.Dense;
    return canon(data.children[c], dense ? data.valueOffsets[i] : i);
  }
  throw new Error(`type ${t} not handled`);
}

function columnValues(table, name) {
  const vector = table.getChild(name);
  if (vector === null) throw new Error(`no column ${name}`);
  const out = [];
  for (const chunk of vector.data) for (let i = 0; i < chunk.length; i++) out.push(canon(chunk, i));
  return out;
}

// Deep equality with numbers by value; returns the path of the first difference or null.
function diff(want, got, path = '') {
  if (typeof want === 'number' && typeof got === 'number') {
    return want === got || (Number.isNaN(want) && Number.isNaN(got)) ? null : `${path}: ${got}, expected ${want}`;
  }
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
    const keys = Object.keys(want);
    if (keys.length !== Object.keys(got).length) return `${path}: keys ${Object.keys(got)}, expected ${keys}`;
    for (const k of keys) {
      const d = diff(want[k], got[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return want === got ? null : `${path}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
}

// "name:type", decimals with their bit width (Arrow JS prints only precision and scale).
function typeText(f) {
  const t = f.type;
  const extra = A.DataType.isDecimal(t) ? `/${t.bitWidth}` : A.DataType.isDictionary(t) ? `#${t.id}` : '';
  return `${f.name}:${t}${extra}`;
}

function check(dir) {
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  let failures = 0;
  for (const [file, spec] of Object.entries(expected.files)) {
    const bytes = readFileSync(join(dir, file));
    let table;
    try {
      const reader = A.RecordBatchReader.from(bytes);
      const isFile = reader.isFile();
      if (isFile !== (spec.format === 'file')) throw new Error(`read as ${isFile ? 'file' : 'stream'}`);
      table = new A.Table(reader.readAll());
    } catch (e) {
      console.log(`FAIL ${file}: Arrow JS cannot read it: ${e.message}`);
      failures++;
      continue;
    }
    if (table.numRows !== spec.rows) {
      console.log(`FAIL ${file}: ${table.numRows} rows, expected ${spec.rows}`);
      failures++;
    }
    const bad = [];
    for (const [name, want] of Object.entries(spec.columns)) {
      let d;
      try {
        d = diff(want, columnValues(table, name), name);
      } catch (e) {
        d = `${name}: ${e.message}`;
      }
      if (d) bad.push(d);
    }
    // Dictionary ids our writer gave: fields that share one must arrive sharing it.
    for (const [name, id] of Object.entries(spec.dictionary_ids ?? {})) {
      const f = table.schema.fields.find((x) => x.name === name);
      if (!f || !A.DataType.isDictionary(f.type)) bad.push(`${name}: not a dictionary`);
      else if (f.type.id !== id) bad.push(`${name}: dictionary id ${f.type.id}, expected ${id}`);
    }
    const types = table.schema.fields.map(typeText).join(' ');
    if (bad.length) {
      failures++;
      console.log(`FAIL ${file}: ${bad.length} columns differ\n  ${bad.join('\n  ')}`);
    } else {
      console.log(`ok ${file}: ${table.numRows} rows, ${Object.keys(spec.columns).length} columns (${types})`);
    }
  }
  return failures === 0 ? 0 : 1;
}

// A table Arrow JS builds itself: several types, nulls every 5th row, two batches.
function jsTable(first, n) {
  const rows = [...Array(n).keys()].map((k) => first + k);
  const nul = (r) => r % 5 === 2;
  const col = (type, f) => A.vectorFromArray(rows.map((r) => (nul(r) ? null : f(r))), type);
  return new A.Table({
    i32: col(new A.Int32(), (r) => r * 7 - 100),
    i64: col(new A.Int64(), (r) => BigInt(r) * 1000000007n),
    u16: col(new A.Uint16(), (r) => r % 65536),
    f64: col(new A.Float64(), (r) => r / 8),
    f32: col(new A.Float32(), (r) => r * 0.25),
    flag: col(new A.Bool(), (r) => r % 3 === 0),
    name: col(new A.Utf8(), (r) => `js-${r}-\u00e9`),
    big: col(new A.LargeUtf8(), (r) => `large ${r}`),
    bytes: col(new A.Binary(), (r) => Uint8Array.from([r & 255, (r >> 8) & 255, 7])),
    day: col(new A.DateDay(), (r) => new Date(Date.UTC(2024, 0, 1) + r * 86400000)),
    ts: col(new A.TimestampMillisecond(), (r) => 1700000000000 + r * 1001),
    ints: col(new A.List(new A.Field('item', new A.Int32(), true)), (r) => [...Array(r % 4).keys()].map((k) => r + k)),
    pair: col(new A.Struct([new A.Field('a', new A.Int32(), true), new A.Field('b', new A.Utf8(), true)]),
              (r) => ({ a: r, b: `b${r}` })),
    color: col(new A.Dictionary(new A.Utf8(), new A.Int32()), (r) => ['red', 'green', 'blue'][r % 3]),
    dec32: decimalColumn(rows, nul, 32, 9, 2, (r) => (r % 4 === 1 ? 999999999n : BigInt(r * 1237 - 5000))),
    dec64: decimalColumn(rows, nul, 64, 18, 3, (r) => (r % 4 === 1 ? -999999999999999999n : BigInt(r) * -4000000007n)),
    ...sharedDictionaryColumns(rows, nul),
  });
}

// Two columns over one dictionary vector, with one dictionary id (1000): Arrow JS writes
// the dictionary once and both fields name it.
function sharedDictionaryColumns(rows, nul) {
  const type = new A.Dictionary(new A.Utf8(), new A.Int32(), 1000);
  const dict = A.vectorFromArray(['north', 'east', 'south', 'west'], new A.Utf8());
  const column = (f) => {
    const valid = new Uint8Array((rows.length + 7) >> 3);
    let nulls = 0;
    const idx = Int32Array.from(rows, (r, i) => {
      if (nul(r)) { nulls++; return 0; }
      valid[i >> 3] |= 1 << (i & 7);
      return f(r);
    });
    return A.makeVector(A.makeData({ type, length: rows.length, nullCount: nulls, nullBitmap: valid, data: idx, dictionary: dict }));
  };
  return { from: column((r) => r % 4), to: column((r) => (r * 3 + 1) % 4) };
}

// A decimal column of `bits` (32 or 64) from unscaled BigInt values: Arrow JS has no
// builder from numbers for decimals, so the words are laid out by hand.
function decimalColumn(rows, nul, bits, precision, scale, f) {
  const words = bits / 32;
  const values = new Uint32Array(rows.length * words);
  const valid = new Uint8Array((rows.length + 7) >> 3);
  let nulls = 0;
  rows.forEach((r, i) => {
    if (nul(r)) { nulls++; return; }
    valid[i >> 3] |= 1 << (i & 7);
    let x = BigInt.asUintN(bits, f(r));
    for (let k = 0; k < words; k++) { values[i * words + k] = Number(x & 0xffffffffn); x >>= 32n; }
  });
  const type = new A.Decimal(scale, precision, bits);
  return A.makeVector(A.makeData({ type, length: rows.length, nullCount: nulls, nullBitmap: valid, data: values }));
}

function write(dir) {
  // The stream's two batches were built apart: their dictionaries differ, so the stream
  // carries a replacement dictionary. A file may not, so its batches are slices of one.
  const table = jsTable(0, 300).concat(jsTable(300, 211));
  const whole = jsTable(0, 511).batches[0];
  const sliced = new A.Table([whole.slice(0, 300), whole.slice(300, 511)]);
  const columns = {};
  for (const f of table.schema.fields) columns[f.name] = columnValues(table, f.name);
  const same = diff(columns, Object.fromEntries(table.schema.fields.map((f) => [f.name, columnValues(sliced, f.name)])));
  if (same) throw new Error(`sliced table differs: ${same}`);
  writeFileSync(join(dir, 'js.arrows'), A.tableToIPC(table, 'stream'));
  writeFileSync(join(dir, 'js.arrow'), A.tableToIPC(sliced, 'file'));
  writeFileSync(join(dir, 'js.expected.json'), JSON.stringify({ rows: table.numRows, batches: table.batches.length, columns }));
  console.log(`ok wrote ${table.numRows} rows in ${table.batches.length} batches: ${table.schema.fields.map(typeText).join(' ')}`);
  return 0;
}

const [mode, dir] = process.argv.slice(2);
process.exitCode = mode === 'check' ? check(dir) : mode === 'write' ? write(dir) : 2;
