/* editor.js - the code editor of the sandbox page: CodeMirror 6 with Python
 * highlighting, line numbers, bracket matching, Tab indenting and Ctrl/Cmd-
 * Enter to run.
 *
 * The editor lives in a shadow root: CodeMirror's style-mod puts its rules in
 * a <style> element when mounted in a document, which the page's CSP
 * (style-src 'self') refuses, but in a shadow root it uses a constructed
 * stylesheet (adoptedStyleSheets), which the CSP does not govern.  So every
 * style of the editor is a theme below, not a rule in sandbox.css.
 *
 * The page's <textarea id="code"> stays the model the page reads and the way
 * tools set the code: every edit is copied into it, and an "input" event on
 * it (a user agent or test filling it) replaces the editor's text.  Once the
 * editor is mounted, the textarea is visually hidden, out of the tab order
 * and hidden from assistive technology.
 */
import { EditorState, StateEffect, StateField, Prec } from "@codemirror/state";
import {
  Decoration, EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, keymap, lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  HighlightStyle, LanguageSupport, bracketMatching, indentOnInput, indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { pythonLanguage } from "@codemirror/lang-python";
import { tags } from "@lezer/highlight";

// Token colours with at least 4.5:1 contrast on the editor's white and on
// the active line's tint (CodeMirror's default style has lighter ones).
const pythonHighlight = HighlightStyle.define([
  { tag: tags.keyword, color: "#7a1fa2" },
  { tag: [tags.string, tags.special(tags.string), tags.regexp], color: "#a3151d" },
  { tag: tags.comment, color: "#5d6675", fontStyle: "italic" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#0b6e4f" },
  { tag: [tags.definition(tags.variableName), tags.function(tags.definition(tags.variableName)),
          tags.definition(tags.className)], color: "#1a4fb5" },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName)], color: "#23407a" },
  { tag: [tags.self, tags.special(tags.variableName)], color: "#8a3b00" },
  { tag: tags.invalid, color: "#b3261e" },
]);

const theme = EditorView.theme({
  "&": {
    color: "#1d2330",
    backgroundColor: "#ffffff",
    border: "1px solid #d8dce3",
    borderRadius: "0.35rem",
    fontSize: "14px",
    maxHeight: "40rem",
  },
  "&.cm-focused": { outline: "2px solid #2457c5", outlineOffset: "-1px" },
  ".cm-scroller": {
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, monospace',
    lineHeight: "1.5",
    overflow: "auto",
  },
  ".cm-content, .cm-gutter": { minHeight: "22rem" },
  ".cm-content": { padding: "0.6rem 0" },
  ".cm-gutters": { backgroundColor: "#f1f3f6", color: "#4f5866", borderRight: "1px solid #d8dce3" },
  ".cm-activeLine": { backgroundColor: "#f2f6fd" },
  ".cm-activeLineGutter": { backgroundColor: "#e3e9f4", color: "#1d2330" },
  "&.cm-focused .cm-matchingBracket": { backgroundColor: "#cfe3d6", outline: "1px solid #1e7b3a" },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "#fdecea", outline: "1px solid #b3261e" },
  ".cm-line.pysb-error-line": {
    backgroundColor: "#fdecea",
    boxShadow: "inset 3px 0 0 #b3261e",
  },
  ".cm-selectionBackground, &.cm-focused .cm-selectionBackground": { backgroundColor: "#c9d8f5" },
});

// The line of the last traceback, marked until the code is run again or
// the line is edited away.
const setErrorLine = StateEffect.define();
const errorLineMark = Decoration.line({
  class: "pysb-error-line",
  attributes: { title: "The error was raised on this line" },
});
const errorLineField = StateField.define({
  create: () => Decoration.none,
  update(marks, tr) {
    let next = marks.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(setErrorLine)) continue;
      const n = effect.value;
      next = n === null ? Decoration.none
        : Decoration.set([errorLineMark.range(tr.state.doc.line(n).from)]);
    }
    return next;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/* Mounts the editor in host (an empty element) over textarea.
 *   onRun()   called on Ctrl-Enter / Cmd-Enter
 *   label     the accessible name of the editing area
 * Returns {view, setCode(text), markErrorLine(n or null), focus()}. */
export function createEditor({ host, textarea, onRun, label = "Code" }) {
  const shadow = host.attachShadow({ mode: "open" });
  const runKeys = Prec.highest(keymap.of([
    { key: "Mod-Enter", preventDefault: true, run: () => { onRun(); return true; } },
  ]));
  const mirror = EditorView.updateListener.of((update) => {
    if (update.docChanged) textarea.value = update.state.doc.toString();
  });
  const state = EditorState.create({
    doc: textarea.value,
    extensions: [
      runKeys,
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      highlightActiveLine(),
      indentUnit.of("    "),
      EditorState.tabSize.of(4),
      new LanguageSupport(pythonLanguage),
      syntaxHighlighting(pythonHighlight),
      // Tab indents; Escape then Tab (within 2 s) moves the focus on, as
      // CodeMirror documents for keyboard users.
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
      errorLineField,
      theme,
      mirror,
      EditorView.contentAttributes.of({
        "aria-label": label,
        // Explicit, so audits (axe's scrollable-region-focusable) see the
        // scroller's focusable content; a contenteditable is in the tab
        // order anyway.
        tabindex: "0",
        autocapitalize: "off",
        autocorrect: "off",
        spellcheck: "false",
      }),
    ],
  });
  const view = new EditorView({ state, parent: shadow, root: shadow });

  function setCode(text) {
    const current = view.state.doc.toString();
    if (text === current) return;
    view.dispatch({ changes: { from: 0, to: current.length, insert: text },
                    effects: setErrorLine.of(null) });
  }

  // Something set the textarea (a test, an extension, autofill): follow it.
  textarea.addEventListener("input", () => setCode(textarea.value));
  textarea.classList.add("code-source-mirrored");
  textarea.tabIndex = -1;
  textarea.setAttribute("aria-hidden", "true");
  host.hidden = false;

  return {
    view,
    setCode,
    markErrorLine(n) {
      const line = Number.isInteger(n) && n >= 1 && n <= view.state.doc.lines ? n : null;
      const effects = [setErrorLine.of(line)];
      if (line !== null) {
        effects.push(EditorView.scrollIntoView(view.state.doc.line(line).from, { y: "nearest" }));
      }
      view.dispatch({ effects });
    },
    focus() {
      view.focus();
    },
  };
}
