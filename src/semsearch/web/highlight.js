// A small syntax highlighter: splits a line into comment, string, number and keyword
// tokens and returns DOM nodes. Text only ever goes in through textContent, so code
// from the index can never become markup.
"use strict";
(function () {
  const KEYWORDS = {
    python: "and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return self True try while with yield",
    rust: "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while",
    go: "break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false",
    javascript: "async await break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof let new null return super switch this throw true try typeof undefined var void while with yield",
    java: "abstract boolean break byte case catch char class const continue default do double else enum extends final finally float for if implements import instanceof int interface long new null package private protected public return short static super switch this throw throws true false try void while",
    c: "auto break case char const continue default do double else enum extern float for goto if inline int long register return short signed sizeof static struct switch typedef union unsigned void volatile while NULL",
    ruby: "alias and begin break case class def do else elsif end ensure false for if in module next nil not or redo rescue retry return self super then true undef unless until when while yield",
    php: "abstract and array as break case catch class const continue declare default do echo else elseif extends final for foreach function global if implements include interface namespace new null private protected public require return static switch this throw trait try use var while",
    bash: "case do done elif else esac fi for function if in local return select then until while export",
    lua: "and break do else elseif end false for function goto if in local nil not or repeat return then true until while",
  };
  KEYWORDS.typescript = KEYWORDS.javascript + " interface type enum implements private public protected readonly declare namespace";
  KEYWORDS.tsx = KEYWORDS.typescript;
  KEYWORDS.cpp = KEYWORDS.c + " class namespace template typename public private protected virtual override new delete this using true false nullptr";
  KEYWORDS.csharp = KEYWORDS.java + " namespace using var async await get set string bool object";
  KEYWORDS.kotlin = "as break class continue do else false for fun if in interface is null object package return super this throw true try typealias val var when while";
  KEYWORDS.scala = "case catch class def do else extends false final for if implicit import lazy match new null object override package private protected return sealed super this throw trait true try type val var while with yield";
  KEYWORDS.swift = "as break case class continue default defer do else enum extension false for func guard if import in init let nil protocol return self static struct switch throw true try var where while";
  const HASH_COMMENT = new Set(["python", "ruby", "bash", "text", "yaml", "toml"]);
  const sets = {};
  function keywords(language) {
    if (!sets[language]) sets[language] = new Set((KEYWORDS[language] || "").split(" "));
    return sets[language];
  }
  function span(cls, text) {
    const s = document.createElement("span");
    if (cls) s.className = cls;
    s.textContent = text;
    return s;
  }
  // Returns a DocumentFragment for one line of code.
  window.highlightLine = function (line, language) {
    const frag = document.createDocumentFragment();
    const comment = HASH_COMMENT.has(language) ? "#" : (language === "lua" ? "--" : "//");
    const kw = keywords(language);
    let i = 0;
    while (i < line.length) {
      const rest = line.slice(i);
      if (rest.startsWith(comment) || (comment !== "#" && rest.startsWith("/*"))) {
        frag.appendChild(span("tok-com", rest));
        break;
      }
      const quote = rest[0];
      if (quote === '"' || quote === "'" || quote === "`") {
        let j = 1;
        while (j < rest.length && rest[j] !== quote) j += rest[j] === "\\" ? 2 : 1;
        frag.appendChild(span("tok-str", rest.slice(0, j + 1)));
        i += j + 1;
        continue;
      }
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
      if (word) {
        frag.appendChild(span(kw.has(word[0]) ? "tok-kw" : "", word[0]));
        i += word[0].length;
        continue;
      }
      const number = /^\d[\d_.xXa-fA-F]*/.exec(rest);
      if (number) {
        frag.appendChild(span("tok-num", number[0]));
        i += number[0].length;
        continue;
      }
      const other = /^[^A-Za-z_0-9"'`#\/-]+|^./.exec(rest)[0];
      frag.appendChild(document.createTextNode(other));
      i += other.length;
    }
    return frag;
  };
})();
