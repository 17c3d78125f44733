// An answer's Markdown as safe HTML (SPEC §13): marked renders it, any HTML inside the answer is
// shown as text (never parsed), DOMPurify removes what is left of danger (javascript: links and
// the like), links open with rel="noopener", code blocks get a copy button.
import { Marked } from '/vendor/marked.esm.js';
import DOMPurify from '/vendor/purify.es.js';

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }) { return escapeHtml(text); },  // block and inline HTML: as text
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('rel', 'noopener noreferrer');
    node.setAttribute('target', '_blank');
  }
});

// Renders `text` into `el`. Called for every chunk of a growing answer, at most once a frame
// per message (the caller throttles): the parse is linear in the text.
export function renderMarkdown(el, text) {
  el.innerHTML = DOMPurify.sanitize(marked.parse(text), { FORBID_TAGS: ['style', 'img', 'form', 'input'] });
  for (const pre of el.querySelectorAll('pre')) {
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'copy';
    copy.textContent = 'Copy';
    copy.addEventListener('click', () => navigator.clipboard?.writeText(pre.querySelector('code')?.textContent ?? pre.textContent));
    pre.prepend(copy);
  }
}
