// Citations and footnote marks show the entry that describes them (their aria-describedby:
// a reference in the list, a note's text) in a popup with role tooltip, when the pointer
// rests on them and when they get keyboard focus. Escape hides it until the pointer moves
// (the page shifting under a still pointer does not bring it back); the pointer may move onto
// the popup without closing it. Without this module the links still lead to the entries.
const TRIGGERS = 'a.citation[aria-describedby], a.footnote-ref[aria-describedby]';
const GAP = 6;              // px between the link and the popup
const MARGIN = 8;           // px the popup keeps from the window's edges

const tip = document.createElement('div');
tip.id = 'tooltip';
tip.className = 'tooltip';
tip.setAttribute('role', 'tooltip');
tip.hidden = true;
(document.querySelector('main') ?? document.body).append(tip);

let owner = null, timer = 0;
let pointer = { x: NaN, y: NaN }, muted = null;    // where the pointer was when Escape hid the popup

function show(link) {
  clearTimeout(timer);
  if (owner === link && !tip.hidden) return;
  const entry = document.getElementById(link.getAttribute('aria-describedby'));
  if (!entry) return;
  tip.replaceChildren(...Array.from(entry.childNodes, node => node.cloneNode(true)));
  for (const el of tip.querySelectorAll('[id]')) el.removeAttribute('id');
  tip.hidden = false;
  owner = link;
  place(link);
}

function hide() {
  clearTimeout(timer);
  tip.hidden = true;
  owner = null;
}

/** Below the link, or above it where the window has no room below; never past its sides. */
function place(link) {
  const box = link.getBoundingClientRect(), parent = tip.offsetParent ?? document.body;
  const base = parent.getBoundingClientRect(), width = document.documentElement.clientWidth;
  tip.style.left = tip.style.top = '0px';
  const { width: w, height: h } = tip.getBoundingClientRect();
  const x = Math.max(MARGIN, Math.min(box.left, width - w - MARGIN));
  const below = box.bottom + GAP + h <= window.innerHeight || box.top - GAP - h < 0;
  const y = below ? box.bottom + GAP : box.top - GAP - h;
  tip.style.left = `${x - base.left}px`;
  tip.style.top = `${y - base.top}px`;
}

const triggerOf = target => (target instanceof Element ? target.closest(TRIGGERS) : null);

document.addEventListener('mousemove', event => { pointer = { x: event.clientX, y: event.clientY }; },
  { passive: true });
document.addEventListener('mouseover', event => {
  pointer = { x: event.clientX, y: event.clientY };
  const link = triggerOf(event.target);
  if (muted && (muted.x !== pointer.x || muted.y !== pointer.y)) muted = null;
  if (link && !muted) show(link);
  else if (tip.contains(event.target)) clearTimeout(timer);
});
document.addEventListener('mouseout', event => {
  if (!owner || owner === document.activeElement) return;
  if (triggerOf(event.target) === owner || tip.contains(event.target)) {
    clearTimeout(timer);
    timer = setTimeout(hide, 200);          // time to move onto the popup
  }
});
// A note's back link (↩) returns to its mark, which the browser may focus: that is the reader
// coming back from the note just read, not asking for it again.
let back = null;
document.addEventListener('click', event => {
  const link = event.target instanceof Element ? event.target.closest('a.footnote-back') : null;
  if (!link) return;
  back = link.getAttribute('href').slice(1);
  setTimeout(() => { back = null; }, 1000);
});
document.addEventListener('focusin', event => {
  const link = triggerOf(event.target);
  muted = null;
  if (link && link.id === back) { back = null; return; }
  if (link) show(link);
  else if (owner) hide();
});
document.addEventListener('focusout', event => {
  if (event.target === owner) hide();
});
document.addEventListener('keydown', event => {
  if (event.key === 'Escape' && !tip.hidden) {
    if (owner !== document.activeElement) muted = pointer;
    hide();
  }
});
window.addEventListener('resize', () => owner && place(owner));
