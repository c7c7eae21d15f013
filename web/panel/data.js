/* data.js - turns a file or pasted text (CSV, JSON, Excel .xlsx) into the
 * page's `data`: the JSON text handed to Python untouched, exactly as a
 * posted body's "data" member would be, plus a preview (first rows, column
 * types, row count).
 *
 * JSON goes through as it is (checked, never re-serialised: 1.0 stays a
 * float, big integers stay exact).  CSV and .xlsx become a list of row
 * objects keyed by the header row; their JSON text is written here, cell by
 * cell, so a number is written with its own digits:
 *   - an integer (JSON syntax, at most 4,300 digits: Python's int parsing
 *     limit) stays an integer of any size, e.g. 12345678901234567890;
 *   - a decimal in JSON syntax stays a number only when it round-trips: its
 *     decimal value is exactly the double nearest to it (0.1, 2.50, 1e3
 *     yes; 0.1000000000000000055511151231257827 and 1e400 no), so Python's
 *     float is the number the file wrote; otherwise it stays text;
 *   - true/false (any case) are booleans, an empty field is null, anything
 *     else (" 5", "007", "1,5", "NaN", dates) is text.
 * The rules are in docs/design/frontend-pyodide.md ("Data").
 */
import Papa from "papaparse";
import { XlsxError, readXlsx } from "./xlsx.js";

export const PREVIEW_ROWS = 20;
// Python refuses to parse integers longer than this (sys.int_info's
// default_max_str_digits); longer digit runs stay text.
const MAX_INT_DIGITS = 4300;
const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export class DataError extends Error {}

const mb = (n) => `${(n / 1048576).toFixed(n < 10485760 ? 1 : 0)} MB`;

// The value of a number's text as "digits e exponent" without leading or
// trailing zeros, so two texts of the same decimal value compare equal.
function decimalKey(text) {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) return null;
  const frac = m[3] || "";
  let digits = (m[2] + frac).replace(/^0+/, "");
  if (digits === "") return "0";
  let exp = Number(m[4] || 0) - frac.length;
  const trailing = digits.length - digits.replace(/0+$/, "").length;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  return `${m[1]}${digits}e${exp}`;
}

// Whether a decimal text denotes exactly the double nearest to it, i.e. a
// float parsed from it loses nothing.
function roundTrips(text) {
  const n = Number(text);
  return Number.isFinite(n) && decimalKey(String(n)) === decimalKey(text);
}

export function textCell(s) {
  return { kind: "text", json: JSON.stringify(s), text: s };
}

// A CSV field as a cell (see the rules above).
export function fieldCell(s) {
  if (s === "") return { kind: "null", json: "null", text: "" };
  if (INTEGER.test(s)) {
    if (s !== "-0" && s.replace("-", "").length <= MAX_INT_DIGITS) {
      return { kind: "integer", json: s, text: s };
    }
  } else if (JSON_NUMBER.test(s) && roundTrips(s)) {
    return { kind: "number", json: s, text: s };
  }
  const lower = s.toLowerCase();
  if (lower === "true" || lower === "false") return { kind: "boolean", json: lower, text: lower };
  return textCell(s);
}

// A number as Excel stored it (a double's decimal text, e.g. "3",
// "0.30000000000000004", "1.2345E-7"): integers as they are, others in
// their shortest form and always with a "." or exponent, so Python reads a
// float as openpyxl would.
function sheetNumberCell(v) {
  if (INTEGER.test(v) && v !== "-0") return { kind: "integer", json: v, text: v };
  const n = Number(v);
  if (!Number.isFinite(n)) return textCell(v);
  let s = String(n);
  if (!/[.e]/.test(s)) s += ".0";
  return { kind: "number", json: s, text: s };
}

const TYPE_NAMES = { integer: "integer", number: "number", boolean: "boolean", text: "text" };

// The column type shown in the preview, from the kinds of its cells.
function columnType(kinds) {
  const k = new Set(kinds);
  const missing = k.delete("null");
  let type;
  if (k.size === 0) type = "empty";
  else if (k.size === 1) type = TYPE_NAMES[[...k][0]] || "mixed";
  else if (k.size === 2 && k.has("integer") && k.has("number")) type = "number";
  else type = "mixed";
  return missing && k.size > 0 ? `${type}, with nulls` : type;
}

// Unique, non-empty column names from a header row: an empty name becomes
// "column<n>", a repeated one gets "_2", "_3", ...
function headerNames(cells) {
  const used = new Set();
  return cells.map((cell, i) => {
    const base = cell === undefined || cell === null || cell === "" ? `column${i + 1}` : String(cell);
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return name;
  });
}

// Writes rows of cells as the JSON text of a list of objects, stopping at
// maxBytes; keeps the first PREVIEW_ROWS rows and each column's kinds.
class TableBuilder {
  constructor(names, maxBytes) {
    this.names = names;
    this.keys = names.map((n) => `${JSON.stringify(n)}:`);
    this.kinds = names.map(() => new Set());
    this.parts = [];
    this.preview = [];
    this.rowCount = 0;
    this.length = 2;
    this.maxBytes = maxBytes;
  }

  add(cells) {
    const values = [];
    const shown = [];
    for (let i = 0; i < this.names.length; i++) {
      const cell = cells[i] || { kind: "null", json: "null", text: "" };
      values.push(this.keys[i] + cell.json);
      this.kinds[i].add(cell.kind);
      if (this.rowCount < PREVIEW_ROWS) shown.push(cell.kind === "null" ? null : cell.text);
    }
    const part = `{${values.join(",")}}`;
    this.length += part.length + 1;
    // Characters, a lower bound of UTF-8 bytes: the exact size is checked
    // once the text is complete.
    if (this.length > this.maxBytes) {
      throw new DataError(`The data is larger than the ${mb(this.maxBytes)} limit for data ` +
                          `(as for posted data) after ${this.rowCount} rows.`);
    }
    this.parts.push(part);
    if (this.rowCount < PREVIEW_ROWS) this.preview.push(shown);
    this.rowCount++;
  }

  finish(kind, name, note) {
    return {
      kind, name, note,
      dataText: `[${this.parts.join(",")}]`,
      table: true,
      rowCount: this.rowCount,
      columns: this.names.map((n, i) => ({ name: n, type: columnType(this.kinds[i]) })),
      rows: this.preview,
    };
  }
}

/* --- CSV ----------------------------------------------------------------- */

function fromCsv(text, name, maxBytes) {
  const parsed = Papa.parse(text, { header: false, dynamicTyping: false, skipEmptyLines: "greedy" });
  // A one-column file has no delimiter to detect; that is not an error.
  const errors = parsed.errors.filter((e) => e.code !== "UndetectableDelimiter");
  if (errors.length > 0) {
    const e = errors[0];
    const where = Number.isInteger(e.row) ? ` (row ${e.row + 1})` : "";
    throw new DataError(`The CSV could not be read${where}: ${e.message}.`);
  }
  const rows = parsed.data;
  if (rows.length === 0) throw new DataError("The CSV is empty: it needs a header row.");
  const names = headerNames(rows[0]);
  const table = new TableBuilder(names, maxBytes);
  for (let r = 1; r < rows.length; r++) {
    const fields = rows[r];
    if (fields.length > names.length) {
      throw new DataError(`Row ${r + 1} of the CSV has ${fields.length} fields but the header ` +
                          `has ${names.length} columns.`);
    }
    // Missing trailing fields are null, as in a spreadsheet.
    table.add(fields.map(fieldCell));
  }
  const delimiter = parsed.meta.delimiter === "\t" ? "tab" : `"${parsed.meta.delimiter}"`;
  return table.finish("csv", name, `CSV, ${delimiter}-separated`);
}

/* --- JSON ---------------------------------------------------------------- */

// A number as its source text (exact) for the preview.
class SourceNumber {
  constructor(source) {
    this.source = source;
  }
}

function previewReviver(key, value, context) {
  if (typeof value !== "number") return value;
  return new SourceNumber(context && typeof context.source === "string" ? context.source
    : String(value));
}

function valueKind(v) {
  if (v === null) return "null";
  if (v instanceof SourceNumber) return /^-?\d+$/.test(v.source) ? "integer" : "number";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "text";
  return "mixed";
}

// Display text of a JSON value (objects and arrays compact, numbers with
// their own digits).
function valueText(v) {
  if (v instanceof SourceNumber) return v.source;
  if (typeof v === "string") return v;
  const raw = typeof JSON.rawJSON === "function";
  return JSON.stringify(v, (k, x) => x instanceof SourceNumber
    ? (raw ? JSON.rawJSON(x.source) : Number(x.source)) : x);
}

const isRow = (v) => v !== null && typeof v === "object" && !Array.isArray(v) &&
  !(v instanceof SourceNumber);

function fromJson(text, name) {
  let value;
  try {
    value = JSON.parse(text, previewReviver);
  } catch (err) {
    throw new DataError(`The JSON could not be read: ${err.message}.`);
  }
  const base = { kind: "json", name, dataText: text, table: false, rowCount: null, columns: [],
                 rows: [], note: "JSON, passed to Python as it is" };
  if (!Array.isArray(value)) {
    const what = value === null ? "null" : value instanceof SourceNumber ? "a number"
      : typeof value === "object" ? "an object" : `a ${typeof value}`;
    return Object.assign(base, { summary: `The JSON is ${what}, not a list of rows.` });
  }
  base.rowCount = value.length;
  if (!value.every(isRow)) {
    return Object.assign(base, { summary: `A list of ${value.length} values (not all of them objects).` });
  }
  const columns = new Map(); // name -> set of kinds
  for (const row of value) {
    for (const k of Object.keys(row)) {
      if (!columns.has(k)) columns.set(k, new Set());
      columns.get(k).add(valueKind(row[k]));
    }
  }
  const names = Array.from(columns.keys());
  for (const row of value) {
    for (const k of names) if (!(k in row)) columns.get(k).add("null");
  }
  base.table = true;
  base.columns = names.map((n) => ({ name: n, type: columnType(columns.get(n)) }));
  base.rows = value.slice(0, PREVIEW_ROWS).map((row) => names.map((k) =>
    row[k] === undefined || row[k] === null ? null : valueText(row[k])));
  return base;
}

/* --- XLSX ---------------------------------------------------------------- */

async function fromXlsx(buffer, name, maxBytes) {
  let sheet;
  try {
    // A part may inflate to several times the JSON it becomes, not more.
    sheet = await readXlsx(buffer, { maxPartBytes: Math.max(maxBytes * 8, 16 * 1048576),
                                     numberCell: sheetNumberCell, textCell });
  } catch (err) {
    if (err instanceof XlsxError) throw new DataError(`The workbook could not be read: ${err.message}.`);
    throw err;
  }
  // Rows with no value at all are left out; the columns start at the first
  // one that has a value in any row.
  const rows = sheet.rows.filter((r) => r.cells.some((c) => c !== undefined));
  if (rows.length === 0) throw new DataError(`The sheet "${sheet.sheetName}" is empty.`);
  let first = Infinity;
  let width = 0;
  for (const r of rows) {
    r.cells.forEach((c, i) => { if (c !== undefined && i < first) first = i; });
    width = Math.max(width, r.cells.length);
  }
  const header = [];
  for (let i = first; i < width; i++) {
    const c = rows[0].cells[i];
    header.push(c === undefined ? "" : c.text);
  }
  const table = new TableBuilder(headerNames(header), maxBytes);
  for (let r = 1; r < rows.length; r++) table.add(rows[r].cells.slice(first));
  return table.finish("xlsx", name, `Excel workbook, sheet "${sheet.sheetName}"`);
}

/* --- entry points -------------------------------------------------------- */

const utf8Size = (text) => new Blob([text]).size;

function checkSize(result, maxBytes) {
  const bytes = utf8Size(result.dataText);
  if (bytes > maxBytes) {
    throw new DataError(`The data is ${mb(bytes)} as JSON; data may be at most ${mb(maxBytes)} ` +
                        "(as for posted data).");
  }
  result.bytes = bytes;
  return result;
}

const stripBom = (text) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
const looksLikeJson = (text) => /^\s*[[{]/.test(text);

/* Pasted text: JSON when it starts with [ or {, CSV otherwise. */
export function readDataText(text, { maxBytes }) {
  const clean = stripBom(String(text));
  if (!/\S/.test(clean)) throw new DataError("There is nothing to use: paste CSV or JSON text.");
  const result = looksLikeJson(clean) ? fromJson(clean, "pasted JSON")
    : fromCsv(clean, "pasted CSV", maxBytes);
  return checkSize(result, maxBytes);
}

/* A File from the file input or a drop. */
export async function readDataFile(file, { maxBytes }) {
  const name = String(file.name || "file");
  if (file.size > maxBytes) {
    throw new DataError(`${name} is ${mb(file.size)}; data may be at most ${mb(maxBytes)} ` +
                        "(as for posted data).");
  }
  const ext = (/\.([a-z0-9]+)$/i.exec(name) || ["", ""])[1].toLowerCase();
  if (ext === "xls") {
    throw new DataError(`${name} is an old-style Excel file (.xls); save it as .xlsx or CSV.`);
  }
  const buffer = await file.arrayBuffer();
  const head = new Uint8Array(buffer, 0, Math.min(4, buffer.byteLength));
  const zipped = head.length === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 &&
    head[3] === 4;
  if (ext === "xlsx" || ext === "xlsm" || zipped) {
    return checkSize(await fromXlsx(buffer, name, maxBytes), maxBytes);
  }
  // UTF-8, or else Windows-1252 (what Excel writes as "CSV" on many
  // systems), said in the preview's note.
  let text;
  let encoding = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch (err) {
    text = new TextDecoder("windows-1252").decode(buffer);
    encoding = "; not UTF-8, read as Windows-1252";
  }
  text = stripBom(text);
  const json = ext === "json" || (ext !== "csv" && ext !== "tsv" && looksLikeJson(text));
  if (json && encoding) throw new DataError(`${name} is not UTF-8 text, so it is not JSON.`);
  const result = json ? fromJson(text, name) : fromCsv(text, name, maxBytes);
  result.note += encoding;
  return checkSize(result, maxBytes);
}
