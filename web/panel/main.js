/* main.js - entry point of the sandbox page's panel bundle (web/vendor/panel.js,
 * built by `make web-vendor` with esbuild from these modules and the pinned
 * npm packages in tools/web-vendor/).  It only publishes the pieces that
 * need libraries; web/sandbox.js wires them into the page and works without
 * them (a plain textarea, no file loading) if this file fails to load.
 */
import { createEditor } from "./editor.js";
import { DataError, PREVIEW_ROWS, readDataFile, readDataText } from "./data.js";

window.pysbPanel = Object.freeze({
  createEditor,
  readDataFile,
  readDataText,
  isDataError: (err) => err instanceof DataError,
  previewRows: PREVIEW_ROWS,
});
