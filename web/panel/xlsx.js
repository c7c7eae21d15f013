/* xlsx.js - reads the first worksheet of an Excel .xlsx workbook into rows of
 * typed cells, in the browser, with no library: an .xlsx file is a ZIP
 * archive of XML parts, so this is the ZIP central directory, the browser's
 * DecompressionStream("deflate-raw") and DOMParser over the workbook, its
 * relationships, the shared strings, the styles (to tell dates from
 * numbers) and the sheet.  Why not a library: docs/design/frontend-pyodide.md
 * ("Data").
 *
 * What is read: numbers, shared and inline strings, booleans, formula results
 * (the cached value; formulas are not evaluated), error values (as their
 * text, e.g. "#DIV/0!") and dates (a number whose cell format is a date or
 * time format, as an ISO 8601 string).  Not read: other sheets, merged
 * cells (only the top-left cell has the value), rich-text formatting.
 */

const MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships";

export class XlsxError extends Error {}

/* --- ZIP ----------------------------------------------------------------- */

// The central directory: name -> {method, flags, compressedSize, size, offset}.
function zipDirectory(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  // The end record is 22 bytes plus a comment of at most 65,535.
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new XlsxError("this is not an .xlsx file (no ZIP directory found)");
  const count = dv.getUint16(eocd + 10, true);
  const dirOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff) {
    throw new XlsxError("ZIP64 workbooks are not supported; save a smaller workbook or a CSV file");
  }
  const names = new TextDecoder();
  const entries = new Map();
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) {
      throw new XlsxError("the workbook's ZIP directory is damaged");
    }
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const name = names.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    entries.set(name, {
      flags: dv.getUint16(p + 8, true),
      method: dv.getUint16(p + 10, true),
      compressedSize: dv.getUint32(p + 20, true),
      size: dv.getUint32(p + 24, true),
      offset: dv.getUint32(p + 42, true),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { bytes, dv, entries };
}

// The text of one part, or null when the archive has no such part.  At most
// maxBytes of it are inflated (a ZIP bomb stops there).
async function zipText(zip, name, maxBytes) {
  const entry = zip.entries.get(name);
  if (entry === undefined) return null;
  if (entry.flags & 1) throw new XlsxError("the workbook is encrypted (password protected)");
  if (entry.size > maxBytes) throw new XlsxError(`the part ${name} is too large to read here`);
  const { dv, bytes } = zip;
  const at = entry.offset;
  if (at + 30 > bytes.length || dv.getUint32(at, true) !== 0x04034b50) {
    throw new XlsxError("the workbook's ZIP entries are damaged");
  }
  const start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    data = await inflate(raw, maxBytes, name);
  } else {
    throw new XlsxError(`the workbook uses a ZIP compression this reader lacks (method ${entry.method})`);
  }
  return new TextDecoder().decode(data);
}

async function inflate(raw, maxBytes, name) {
  if (typeof DecompressionStream !== "function") {
    throw new XlsxError("this browser cannot unpack .xlsx files (no DecompressionStream)");
  }
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        throw new XlsxError(`the part ${name} is too large to read here`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof XlsxError) throw err;
    throw new XlsxError(`the workbook's part ${name} could not be unpacked (${err.message})`);
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/* --- XML parts ----------------------------------------------------------- */

function parseXml(text, name) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length > 0) {
    throw new XlsxError(`the workbook's part ${name} is not well-formed XML`);
  }
  return doc;
}

// Resolves a relationship target against the folder of the part that owns it.
function resolvePart(base, target) {
  if (target.startsWith("/")) return target.slice(1);
  const parts = base.split("/").slice(0, -1);
  for (const seg of target.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== "." && seg !== "") parts.push(seg);
  }
  return parts.join("/");
}

// Relationships of a part: [{id, type, target (a part name)}].
async function relationships(zip, part, maxBytes) {
  const slash = part.lastIndexOf("/");
  const relsName = `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
  const text = await zipText(zip, relsName, maxBytes);
  if (text === null) return [];
  const doc = parseXml(text, relsName);
  return Array.from(doc.getElementsByTagNameNS(PKG_REL_NS, "Relationship"), (r) => ({
    id: r.getAttribute("Id"),
    type: r.getAttribute("Type") || "",
    target: resolvePart(part, r.getAttribute("Target") || ""),
  }));
}

// Text of a string item (<si> or <is>): its <t> elements, without the
// phonetic runs (<rPh>) that East Asian workbooks add.
function itemText(el) {
  let text = "";
  for (const t of el.getElementsByTagNameNS(MAIN_NS, "t")) {
    if (t.parentNode && t.parentNode.localName === "rPh") continue;
    text += t.textContent;
  }
  return text;
}

// Built-in number formats that show dates or times (ECMA-376 18.8.30, plus
// the East Asian ones Excel also treats as dates).
const DATE_FORMAT_IDS = new Set([14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52,
                                 53, 54, 57, 58]);
const TIME_FORMAT_IDS = new Set([18, 19, 20, 21, 45, 46, 32, 33, 55, 56]);

// {date, time} for a format code: what it shows once quoted text, escaped
// characters and [colour]/[locale] sections are set aside.  Elapsed-time
// formats ([h]:mm) are durations, left as numbers.
function classifyFormat(code) {
  if (/\[(h+|m+|s+)\]/i.test(code)) return { date: false, time: false };
  const bare = code.split(";")[0].replace(/"[^"]*"/g, "").replace(/\\./g, "").replace(/\[[^\]]*\]/g, "");
  // "m" is a month next to d or y, or alone; next to h or s it is minutes.
  const date = /[dy]/i.test(bare) || (/m/i.test(bare) && !/[hs]/i.test(bare));
  const time = /[hs]/i.test(bare);
  return { date, time };
}

// Per cell style index (the s attribute): {date, time} or null (a number).
async function cellFormats(zip, part, maxBytes) {
  if (part === null) return [];
  const text = await zipText(zip, part, maxBytes);
  if (text === null) return [];
  const doc = parseXml(text, part);
  const custom = new Map();
  for (const f of doc.getElementsByTagNameNS(MAIN_NS, "numFmt")) {
    custom.set(Number(f.getAttribute("numFmtId")), f.getAttribute("formatCode") || "");
  }
  const xfsParent = doc.getElementsByTagNameNS(MAIN_NS, "cellXfs")[0];
  if (!xfsParent) return [];
  const out = [];
  for (const xf of xfsParent.children) {
    if (xf.localName !== "xf") continue;
    const id = Number(xf.getAttribute("numFmtId") || 0);
    let kind = null;
    if (custom.has(id)) {
      const c = classifyFormat(custom.get(id));
      if (c.date || c.time) kind = c;
    } else if (DATE_FORMAT_IDS.has(id)) {
      kind = { date: true, time: id === 22 };
    } else if (TIME_FORMAT_IDS.has(id)) {
      kind = { date: false, time: true };
    }
    out.push(kind);
  }
  return out;
}

/* --- cells --------------------------------------------------------------- */

const pad = (n, w = 2) => String(n).padStart(w, "0");

// An Excel serial day number as ISO 8601 text (1900 or 1904 date system).
// Serials before 1 March 1900 count Excel's phantom 29 February 1900 (Lotus
// compatibility), so they are shifted by a day.
function serialToIso(serial, format, date1904) {
  let days = date1904 ? serial + 1462 : serial;
  if (!date1904 && days < 61) days += 1;
  const ms = Math.round((days - 25569) * 86400000 / 1000) * 1000; // 25569: 1899-12-30 .. 1970-01-01
  const d = new Date(ms);
  if (!Number.isFinite(d.getTime())) return null;
  const datePart = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const timePart = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (format.date && !format.time) return datePart;
  if (format.time && !format.date) return serial < 1 ? timePart : `${datePart}T${timePart}`;
  return `${datePart}T${timePart}`;
}

// Column number (0-based) of a cell reference such as "BC12".
function columnOf(ref) {
  let col = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  return i === 0 ? -1 : col - 1;
}

/* Reads the first worksheet: {sheetName, rows}, rows being arrays (sparse,
 * by column) of cells {kind: "integer"|"number"|"boolean"|"text", json,
 * text}, see data.js.  numberCell(text) turns a stored number into a cell.
 * maxPartBytes bounds every inflated part. */
export async function readXlsx(buffer, { maxPartBytes, numberCell, textCell }) {
  const zip = zipDirectory(new Uint8Array(buffer));
  let workbookPart = "xl/workbook.xml";
  for (const r of await relationships(zip, "", maxPartBytes)) {
    if (r.type.endsWith("/officeDocument")) workbookPart = r.target;
  }
  const workbookText = await zipText(zip, workbookPart, maxPartBytes);
  if (workbookText === null) throw new XlsxError("this is not an .xlsx workbook (no workbook part)");
  const workbook = parseXml(workbookText, workbookPart);
  const sheetEl = workbook.getElementsByTagNameNS(MAIN_NS, "sheet")[0];
  if (!sheetEl) throw new XlsxError("the workbook has no worksheet");
  const pr = workbook.getElementsByTagNameNS(MAIN_NS, "workbookPr")[0];
  const date1904 = pr ? /^(1|true)$/.test(pr.getAttribute("date1904") || "") : false;

  const rels = await relationships(zip, workbookPart, maxPartBytes);
  const relId = sheetEl.getAttributeNS(REL_NS, "id");
  const sheetRel = rels.find((r) => r.id === relId);
  if (!sheetRel) throw new XlsxError("the workbook's first sheet cannot be found");
  const byType = (suffix) => {
    const r = rels.find((x) => x.type.endsWith(suffix));
    return r ? r.target : null;
  };

  let shared = [];
  const sharedPart = byType("/sharedStrings");
  if (sharedPart !== null) {
    const text = await zipText(zip, sharedPart, maxPartBytes);
    if (text !== null) {
      const doc = parseXml(text, sharedPart);
      shared = Array.from(doc.getElementsByTagNameNS(MAIN_NS, "si"), itemText);
    }
  }
  const formats = await cellFormats(zip, byType("/styles"), maxPartBytes);

  const sheetText = await zipText(zip, sheetRel.target, maxPartBytes);
  if (sheetText === null) throw new XlsxError("the workbook's first sheet is missing");
  const sheet = parseXml(sheetText, sheetRel.target);
  const rows = [];
  let rowNumber = 0;
  for (const rowEl of sheet.getElementsByTagNameNS(MAIN_NS, "row")) {
    const r = Number(rowEl.getAttribute("r"));
    rowNumber = Number.isInteger(r) && r > rowNumber ? r : rowNumber + 1;
    const cells = [];
    let col = -1;
    for (const c of rowEl.children) {
      if (c.localName !== "c") continue;
      const ref = c.getAttribute("r");
      const at = ref ? columnOf(ref) : -1;
      col = at >= 0 ? at : col + 1;
      const cell = readCell(c, shared, formats, date1904, numberCell, textCell);
      if (cell !== null) cells[col] = cell;
    }
    rows.push({ number: rowNumber, cells });
  }
  return { sheetName: sheetEl.getAttribute("name") || "Sheet1", rows };
}

function childText(c, name) {
  for (const el of c.children) if (el.localName === name) return el.textContent;
  return null;
}

function readCell(c, shared, formats, date1904, numberCell, textCell) {
  const type = c.getAttribute("t") || "n";
  if (type === "inlineStr") {
    const is = Array.from(c.children).find((el) => el.localName === "is");
    return is ? textCell(itemText(is)) : null;
  }
  const v = childText(c, "v");
  if (v === null || v === "") return null;
  switch (type) {
    case "s": {
      const s = shared[Number(v)];
      return textCell(s === undefined ? "" : s);
    }
    case "b":
      return { kind: "boolean", json: v === "1" ? "true" : "false", text: v === "1" ? "true" : "false" };
    case "str":
    case "e":
    case "d":
      return textCell(v);
    default: {
      const format = formats[Number(c.getAttribute("s") || 0)] || null;
      const n = Number(v);
      if (format !== null && Number.isFinite(n)) {
        const iso = serialToIso(n, format, date1904);
        if (iso !== null) return textCell(iso);
      }
      return numberCell(v);
    }
  }
}
