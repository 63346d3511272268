// markdown.js -- a small, safe Markdown renderer: project instructions,
// prompts and model responses, previews of what annotators write.
//
// It builds DOM nodes directly (never innerHTML), so any HTML in the text
// shows as the text it is.  Understood: paragraphs (blank lines between),
// headings (#, ##, ...), bullet lists (-, *, +) and numbered lists (1.),
// fenced code blocks (``` or ~~~, the language named above the block),
// **bold**, *italic* / _italic_, `code`, [links](https://...) and
// backslash escapes.  Links go only to http(s) or mailto addresses and
// open in a new tab; anything else stays plain text.

import { h } from './dom.js';

/* Splits text into Markdown parts and fenced code blocks (``` or ~~~, at
 * most 3 spaces of indent; an unclosed fence runs to the end). */
function splitFences(text) {
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  const parts = [];
  let md = [];
  let code = null; // {fence, indent, lang, lines}
  for (const line of lines) {
    if (code) {
      const close = /^( {0,3})(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[2][0] === code.fence[0] && close[2].length >= code.fence.length) {
        parts.push({ code: code.lines.join('\n'), lang: code.lang });
        code = null;
      } else {
        // Drop up to the opening fence's indent from each line.
        let cut = 0;
        while (cut < code.indent && line[cut] === ' ') cut++;
        code.lines.push(line.slice(cut));
      }
      continue;
    }
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/.exec(line);
    if (open) {
      if (md.length) parts.push({ md: md.join('\n') });
      md = [];
      code = { fence: open[2], indent: open[1].length, lang: open[3] || '', lines: [] };
      continue;
    }
    md.push(line);
  }
  if (code) parts.push({ code: code.lines.join('\n'), lang: code.lang });
  if (md.length) parts.push({ md: md.join('\n') });
  return parts;
}

/* A fenced code block: <pre><code>, the language (if named) above it. */
function codeBlock(code, info) {
  const lang = info.replace(/[^\w+#.-]/g, '').slice(0, 30);
  return h(
    'div',
    { class: 'rich-code', 'data-lang': lang || null },
    lang ? h('span', { class: 'rich-code-lang', 'aria-hidden': 'true' }, lang) : null,
    h('pre', { tabindex: '0', 'aria-label': lang ? `Code (${lang})` : 'Code' }, h('code', { class: lang ? `lang-${lang}` : null }, code)),
  );
}

export function renderMarkdown(src) {
  const root = document.createDocumentFragment();
  for (const part of splitFences(src)) {
    if ('code' in part) root.append(codeBlock(part.code, part.lang));
    else root.append(renderBlocks(part.md));
  }
  return root;
}

/* Paragraphs, headings and lists of text that has no fenced code. */
function renderBlocks(src) {
  const root = document.createDocumentFragment();
  const lines = src.split('\n');
  let para = null; // lines of the open paragraph
  let list = null; // {el, ordered, last}

  const closePara = () => {
    if (para) root.append(h('p', null, inline(para.join(' '))));
    para = null;
  };
  const closeList = () => {
    list = null;
  };

  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (!line.trim()) {
      closePara();
      closeList();
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*$/.exec(line);
    const bullet = /^\s{0,3}([-*+])\s+(.*)$/.exec(line);
    const numbered = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/.exec(line);
    if (heading) {
      closePara();
      closeList();
      const level = Math.min(6, heading[1].length + 2); // the page has its own h1/h2
      root.append(h(`h${level}`, { class: 'md-heading' }, inline(heading[2])));
    } else if (bullet || numbered) {
      closePara();
      const ordered = !!numbered;
      const text = (bullet || numbered)[2];
      if (!list || list.ordered !== ordered) {
        const attrs = ordered && numbered[1] !== '1' ? { start: Number(numbered[1]) } : null;
        list = { el: h(ordered ? 'ol' : 'ul', attrs), ordered, last: null };
        root.append(list.el);
      }
      list.last = h('li', null, inline(text));
      list.el.append(list.last);
    } else if (list && /^\s+\S/.test(raw)) {
      // an indented line continues the list item
      list.last.append(' ', inline(line.trim()));
    } else {
      closeList();
      (para ||= []).push(line.trim());
    }
  }
  closePara();
  return root;
}

function safeHref(url) {
  const u = url.trim();
  // Only addresses that leave the page: a "#..." link would change the
  // app's route.
  return /^(https?:|mailto:)/i.test(u) ? u : null;
}

/* Inline markup of one block's text, as an array of nodes and strings. */
export function inline(text) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push(buf);
    buf = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!<>]/.test(text[i + 1])) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push(h('code', null, text.slice(i + 1, end)));
        i = end + 1;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] === c) {
      const end = text.indexOf(c + c, i + 2);
      if (end > i + 2 && text[i + 2] !== ' ') {
        flush();
        out.push(h('strong', null, inline(text.slice(i + 2, end))));
        i = end + 2;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const next = text[i + 1];
      const wordBefore = c === '_' && i > 0 && /\w/.test(text[i - 1]); // snake_case stays
      if (next && next !== ' ' && next !== c && !wordBefore) {
        let end = i + 1;
        for (;;) {
          end = text.indexOf(c, end);
          if (end < 0) break;
          if (text[end + 1] === c) {
            end += 2;
            continue;
          }
          if (text[end - 1] !== ' ' && !(c === '_' && /\w/.test(text[end + 1] || ''))) break;
          end += 1;
        }
        if (end > i + 1) {
          flush();
          out.push(h('em', null, inline(text.slice(i + 1, end))));
          i = end + 1;
          continue;
        }
      }
    }
    if (c === '[') {
      const m = /^\[([^\]\n]+)\]\(\s*([^()\s]+)\s*\)/.exec(text.slice(i));
      if (m) {
        const href = safeHref(m[2]);
        flush();
        if (href) {
          out.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, inline(m[1])));
        } else {
          out.push(m[0]); // an address we do not follow stays as it was written
        }
        i += m[0].length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}
