// editor-ranking.js -- the answer editor for `ranking` projects
// (docs/KINDS.md): the prompt (if any) and the responses as cards, best
// first, put in order by dragging a card's handle (pointer events: mouse,
// pen or touch) or with the keyboard: focus a card, then ↑/↓ (or k/j, or
// Alt+↑/↓) move it, Home/End to the top or bottom.  With params.allow_ties,
// t ties the card with the place above (or unties it again); the buttons on
// each card do the same.  Each move is announced (aria-live).
//
// The response is {"ranking": [...]}: every response id once, best first;
// a group of tied ids is an array.  The cards start in the task's order
// (or a model's order, said so), which is itself an answer: valid() is
// always true.  The interface every editor follows is in editors.js.

import { h, svg } from './dom.js';
import { taskResponses, taskPrompt, renderRich, instanceId, predictionSource, predictionsByScore } from './responses.js';

const DRAG_THRESHOLD_PX = 5;
const EDGE_PX = 80; // auto-scroll while dragging this close to the window's edge (the status bar covers the bottom 3rem)
const EDGE_SPEED_PX = 14;

const ordinal = (n) => {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
};

export const rankingEditor = {
  kind: 'ranking',
  showsTask: true,

  shortcuts: [
    ['Tab', 'go to the next response card (Shift+Tab: the previous)'],
    ['↑ ↓ or k j', 'move the focused card up or down (Alt+↑ ↓ too)'],
    ['Home End', 'move the focused card to the top or the bottom'],
    ['t', 'tie the focused card with the place above, or untie it (when ties are allowed)'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const { items, problems } = taskResponses(task);
    const byId = new Map(items.map((r) => [r.id, r]));
    const allowTies = params?.allow_ties === true;
    const uid = instanceId('rank');
    let alive = true;

    /* A ranking (response.ranking) as places [[id, ...], ...]: unknown and
     * repeated ids dropped, groups flattened unless ties are allowed, the
     * missing ids added at the end in the task's order.  complete: nothing
     * had to be changed. */
    function fromRanking(raw) {
      if (!Array.isArray(raw)) return null;
      const seen = new Set();
      const places = [];
      let complete = true;
      const take = (id) => {
        if (typeof id !== 'string' || !byId.has(id) || seen.has(id)) {
          complete = false;
          return false;
        }
        seen.add(id);
        return true;
      };
      for (const item of raw) {
        if (Array.isArray(item)) {
          const group = item.filter(take);
          if (!group.length) continue;
          if (allowTies) places.push(group);
          else {
            if (group.length > 1) complete = false;
            for (const id of group) places.push([id]);
          }
        } else if (take(item)) places.push([item]);
      }
      for (const r of items)
        if (!seen.has(r.id)) {
          places.push([r.id]);
          complete = false;
        }
      return { places, complete };
    }

    let places = items.map((r) => [r.id]);
    let note = null;
    let startedFrom = 'task';
    const given = value && typeof value === 'object' ? fromRanking(value.ranking) : null;
    if (given) {
      places = given.places;
      startedFrom = 'answer';
    } else if (!readOnly) {
      for (const p of predictionsByScore(task)) {
        const r = fromRanking(p.response.ranking);
        if (!r || !r.complete) continue;
        places = r.places;
        startedFrom = 'model';
        note = h(
          'p',
          { class: 'note prediction-note', 'data-testid': 'prediction-note' },
          `Pre-ordered by ${predictionSource(p)}: ${describe(places)}. Check the order and change it where you disagree.`,
        );
        break;
      }
    }

    function describe(ps) {
      return ps.map((g) => g.map((id) => byId.get(id)?.letter ?? id).join(' = ')).join(', ');
    }
    const current = () => ({ ranking: places.map((g) => (g.length > 1 ? [...g] : g[0])) });
    const placeOf = (id) => places.findIndex((g) => g.includes(id));

    // ---- the page ----
    const prompt = taskPrompt(task);
    const promptBox = prompt
      ? h(
          'section',
          { class: 'cmp-prompt rank-prompt', 'data-testid': 'rank-prompt', 'aria-labelledby': `${uid}-prompt` },
          h('h3', { class: 'cmp-section-title', id: `${uid}-prompt` }, 'Prompt'),
          renderRich(prompt),
        )
      : null;
    const helpId = `${uid}-help`;
    const help = h(
      'p',
      { id: helpId, class: 'visually-hidden' },
      `Up and down arrows (or k and j) move this response; Home and End move it to the top or the bottom.${allowTies ? ' t ties it with the place above, or unties it.' : ''}`,
    );
    const hint = readOnly
      ? null
      : h(
          'p',
          { class: 'editor-hint', 'data-testid': 'rank-hint' },
          'Put the responses in order, best first: drag a card by its handle, or focus a card and press ↑ or ↓. ',
          startedFrom === 'answer'
            ? 'Your saved order is restored below.'
            : startedFrom === 'model'
              ? "They start in the model's order: check it before you submit."
              : 'They start in the order the task gave them: that is only a starting point, and it is submitted as it stands if you do not change it.',
          allowTies ? ' Equally good responses can share a place: “Tie with above” (or t) joins them.' : '',
        );
    const live = h('p', { class: 'rank-live muted', 'data-testid': 'rank-live', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    const list = h('ol', { class: 'rank-list', 'data-testid': 'rank-list', 'aria-label': 'Responses, best first' });

    const cards = new Map();
    for (const r of items) {
      const handle = readOnly
        ? null
        : h(
            'div',
            { class: 'rank-handle', 'data-testid': 'rank-handle', 'aria-hidden': 'true', title: 'Drag to move' },
            svg(
              'svg',
              { class: 'rank-grip', viewBox: '0 0 10 16', width: '10', height: '16', focusable: 'false' },
              [2, 8, 14].flatMap((y) => [svg('circle', { cx: '2', cy: String(y), r: '1.5' }), svg('circle', { cx: '8', cy: String(y), r: '1.5' })]),
            ),
          );
      const upBtn = readOnly ? null : h('button', { type: 'button', class: 'quiet rank-tool', tabindex: '-1', 'data-action': 'up', 'aria-label': `Move ${r.letter} up`, title: 'Move up (↑)', onclick: () => act(r.id, 'up') }, '↑');
      const downBtn = readOnly ? null : h('button', { type: 'button', class: 'quiet rank-tool', tabindex: '-1', 'data-action': 'down', 'aria-label': `Move ${r.letter} down`, title: 'Move down (↓)', onclick: () => act(r.id, 'down') }, '↓');
      const tieBtn =
        readOnly || !allowTies ? null : h('button', { type: 'button', class: 'quiet rank-tool rank-tie-btn', tabindex: '-1', 'data-action': 'tie', onclick: () => act(r.id, 'tie') });
      const card = h(
        'div',
        {
          class: 'rank-card',
          'data-response-id': r.id,
          'data-letter': r.letter,
          tabindex: readOnly ? null : '0',
          'aria-describedby': readOnly ? null : helpId,
          'aria-roledescription': readOnly ? null : 'movable response',
        },
        handle,
        h(
          'div',
          { class: 'rank-card-main' },
          h(
            'div',
            { class: 'rank-card-head' },
            h('span', { class: 'cmp-letter rank-letter' }, r.letter),
            h('span', { class: 'rank-card-title' }, `Response ${r.letter}`),
            readOnly ? null : h('span', { class: 'rank-tools' }, upBtn, downBtn, tieBtn),
          ),
          h('div', { class: 'rank-card-body' }, renderRich(r.text)),
        ),
      );
      cards.set(r.id, { card, upBtn, downBtn, tieBtn, handle });
    }

    const problemEls = problems.map((p) => h('p', { class: 'note', 'data-testid': 'rank-problem' }, p));
    if (items.length < 2) problemEls.push(h('p', { class: 'note', 'data-testid': 'rank-problem' }, 'This task has fewer than two responses, so there is nothing to order.'));
    const emptyNote = readOnly && !given ? h('p', { class: 'note' }, 'No answer to show: the responses are in the task’s order.') : null;
    const root = h(
      'div',
      { class: `rank-editor${readOnly ? ' is-readonly' : ''}${readOnly && !given ? ' is-unranked' : ''}${allowTies ? ' allows-ties' : ''}`, 'data-testid': 'ranking' },
      hint,
      note,
      problemEls,
      promptBox,
      emptyNote,
      help,
      list,
      readOnly ? null : live,
    );
    el.replaceChildren(root);

    // ---- drawing ----
    function render() {
      const focused = document.activeElement instanceof Element ? document.activeElement.closest('.rank-card') : null;
      const n = places.length;
      const lis = places.map((group, gi) => {
        const tied = group.length > 1;
        const place = h(
          'div',
          { class: 'rank-place', 'aria-hidden': 'true' },
          h('span', { class: 'rank-place-num' }, String(gi + 1)),
          tied ? h('span', { class: 'rank-place-tag' }, 'tied') : null,
        );
        const box = h('div', { class: 'rank-group-cards' });
        for (const id of group) {
          const c = cards.get(id);
          const r = byId.get(id);
          c.card.setAttribute('aria-label', `Response ${r.letter}: ${tied ? `tied for ${ordinal(gi + 1)} place` : `${ordinal(gi + 1)} place`} of ${n}`);
          c.card.dataset.place = String(gi + 1);
          if (c.upBtn) c.upBtn.disabled = gi === 0 && !tied;
          if (c.downBtn) c.downBtn.disabled = gi === n - 1 && !tied;
          if (c.tieBtn) {
            c.tieBtn.textContent = tied ? 'Untie' : 'Tie with above';
            c.tieBtn.title = tied ? 'Give it a place of its own (t)' : 'Share the place above (t)';
            c.tieBtn.disabled = !tied && gi === 0;
            c.tieBtn.setAttribute('aria-label', tied ? `Untie ${r.letter}` : `Tie ${r.letter} with the place above`);
          }
          box.append(c.card);
        }
        return h('li', { class: `rank-group${tied ? ' is-tied' : ''}`, 'data-place': String(gi + 1), 'data-testid': 'rank-group' }, place, box);
      });
      list.replaceChildren(...lis);
      if (focused && list.contains(focused)) focused.focus({ preventScroll: true });
    }
    render();

    function announce(text) {
      live.textContent = text;
    }

    function changed(msg) {
      render();
      if (msg) announce(msg);
      onChange?.(current());
    }

    // ---- moves ----
    function locked() {
      return !alive || readOnly || !!root.closest('fieldset[disabled]');
    }

    /* Moves id one place up (-1) or down (+1); from a tied group it first
     * leaves the group, to a place of its own just above or below it. */
    function step(id, dir) {
      const gi = placeOf(id);
      if (gi < 0) return null;
      const group = places[gi];
      if (group.length > 1) {
        group.splice(group.indexOf(id), 1);
        places.splice(dir < 0 ? gi : gi + 1, 0, [id]);
        return true;
      }
      const to = gi + dir;
      if (to < 0 || to >= places.length) return false;
      [places[gi], places[to]] = [places[to], places[gi]];
      return true;
    }

    function where(id) {
      const gi = placeOf(id);
      const letter = byId.get(id).letter;
      const tied = places[gi].length > 1 ? ` (tied with ${places[gi].filter((x) => x !== id).map((x) => byId.get(x).letter).join(', ')})` : '';
      return `${letter} is now ${ordinal(gi + 1)} of ${places.length}${tied}.`;
    }

    function act(id, what) {
      if (locked() || !byId.has(id)) return false;
      const letter = byId.get(id).letter;
      if (what === 'up' || what === 'down') {
        const moved = step(id, what === 'up' ? -1 : 1);
        if (!moved) announce(`${letter} is already ${what === 'up' ? 'first' : 'last'}.`);
        else changed(where(id));
      } else if (what === 'top' || what === 'bottom') {
        const before = JSON.stringify(places);
        for (let i = 0; i < items.length + 1 && step(id, what === 'top' ? -1 : 1); i++);
        if (JSON.stringify(places) === before) announce(`${letter} is already ${what === 'top' ? 'first' : 'last'}.`);
        else changed(where(id));
      } else if (what === 'tie') {
        if (!allowTies) return false;
        const gi = placeOf(id);
        if (places[gi].length > 1) {
          places[gi].splice(places[gi].indexOf(id), 1);
          places.splice(gi + 1, 0, [id]);
          changed(`${letter} is no longer tied: ${where(id)}`);
        } else if (gi === 0) {
          announce(`${letter} is first: there is no place above to tie with. Tie the response below with it instead.`);
        } else {
          places[gi - 1].push(id);
          places.splice(gi, 1);
          changed(`${letter} tied: ${where(id)}`);
        }
      }
      cards.get(id).card.focus({ preventScroll: false });
      return true;
    }

    /* Keys on a focused card.  Listened to on the list itself, so that
     * Alt+arrows (which the workspace leaves alone) work too; a handled key
     * is prevented, and the workspace then ignores it. */
    function onCardKey(ev) {
      if (ev.defaultPrevented || ev.isComposing || ev.ctrlKey || ev.metaKey) return;
      const card = ev.target instanceof Element ? ev.target : null;
      if (!card || !card.classList.contains('rank-card') || !list.contains(card)) return;
      const id = card.dataset.responseId;
      const k = ev.key;
      let what = null;
      if (k === 'ArrowUp' || (!ev.altKey && (k === 'k' || k === 'K'))) what = 'up';
      else if (k === 'ArrowDown' || (!ev.altKey && (k === 'j' || k === 'J'))) what = 'down';
      else if (!ev.altKey && k === 'Home') what = 'top';
      else if (!ev.altKey && k === 'End') what = 'bottom';
      else if (!ev.altKey && allowTies && (k === 't' || k === 'T' || k === '=')) what = 'tie';
      if (!what || locked()) return;
      ev.preventDefault();
      if (!ev.repeat || what === 'up' || what === 'down') act(id, what);
    }

    // ---- dragging (pointer events) ----
    let drag = null; // {id, pointerId, startX, startY, started, li, grabDy, lastY, before, raf}

    function onPointerDown(ev) {
      if (drag || locked() || !ev.isPrimary || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
      const handle = ev.target instanceof Element ? ev.target.closest('.rank-handle') : null;
      if (!handle || !list.contains(handle)) return;
      const card = handle.closest('.rank-card');
      ev.preventDefault(); // no text selection, no native drag
      card.focus({ preventScroll: true });
      drag = { id: card.dataset.responseId, pointerId: ev.pointerId, startX: ev.clientX, startY: ev.clientY, started: false, li: null, grabDy: 0, lastY: ev.clientY, before: null, raf: 0 };
      window.addEventListener('pointermove', onPointerMove);
      window.addEventListener('pointerup', onPointerUp);
      window.addEventListener('pointercancel', onPointerCancel);
      window.addEventListener('keydown', onDragKey, true);
    }

    function beginDrag() {
      const id = drag.id;
      drag.before = places.map((g) => [...g]);
      const gi = placeOf(id);
      if (places[gi].length > 1) {
        // Leave the tied group: a place of its own just below it.
        places[gi].splice(places[gi].indexOf(id), 1);
        places.splice(gi + 1, 0, [id]);
        render();
      }
      const card = cards.get(id).card;
      drag.li = card.closest('.rank-group');
      drag.li.classList.add('is-dragging');
      root.classList.add('is-dragging-any');
      const rect = drag.li.getBoundingClientRect();
      drag.grabDy = drag.startY - rect.top;
      drag.started = true;
      announce(`Moving ${byId.get(id).letter}: release to drop, Escape to cancel.`);
      const tick = () => {
        if (!drag || !drag.started) return;
        const y = drag.lastY;
        let dy = 0;
        if (y < EDGE_PX) dy = -EDGE_SPEED_PX;
        else if (y > window.innerHeight - EDGE_PX) dy = EDGE_SPEED_PX;
        if (dy) {
          const before = window.scrollY;
          window.scrollBy(0, dy);
          if (window.scrollY !== before) follow(y);
        }
        drag.raf = requestAnimationFrame(tick);
      };
      drag.raf = requestAnimationFrame(tick);
    }

    /* Puts the dragged place under the pointer, and moves it past the
     * places whose middle it crossed. */
    function follow(y) {
      const li = drag.li;
      const top = y - drag.grabDy;
      for (let guard = 0; guard < places.length * 2; guard++) {
        li.style.transform = '';
        const natural = li.getBoundingClientRect();
        const mid = top + natural.height / 2;
        const prev = li.previousElementSibling;
        const next = li.nextElementSibling;
        const pr = prev?.getBoundingClientRect();
        const nr = next?.getBoundingClientRect();
        if (prev && mid < pr.top + pr.height / 2) {
          const gi = placeOf(drag.id);
          [places[gi - 1], places[gi]] = [places[gi], places[gi - 1]];
          list.insertBefore(prev, li.nextSibling); // move the other one: the dragged node stays put
          continue;
        }
        if (next && mid > nr.top + nr.height / 2) {
          const gi = placeOf(drag.id);
          [places[gi + 1], places[gi]] = [places[gi], places[gi + 1]];
          list.insertBefore(next, li);
          continue;
        }
        li.style.transform = `translateY(${Math.round(top - natural.top)}px)`;
        break;
      }
      const gi = placeOf(drag.id);
      for (const [i, node] of [...list.children].entries()) {
        const num = node.querySelector('.rank-place-num');
        if (num) num.textContent = String(i + 1);
      }
      drag.li.dataset.place = String(gi + 1);
    }

    function onPointerMove(ev) {
      if (!drag || ev.pointerId !== drag.pointerId) return;
      drag.lastY = ev.clientY;
      if (!drag.started) {
        if (Math.hypot(ev.clientX - drag.startX, ev.clientY - drag.startY) < DRAG_THRESHOLD_PX) return;
        if (locked()) return endDrag(false);
        beginDrag();
      }
      ev.preventDefault();
      follow(ev.clientY);
    }

    function onPointerUp(ev) {
      if (!drag || ev.pointerId !== drag.pointerId) return;
      endDrag(true);
    }

    function onPointerCancel(ev) {
      if (!drag || ev.pointerId !== drag.pointerId) return;
      endDrag(false);
    }

    function onDragKey(ev) {
      if (!drag || ev.key !== 'Escape') return;
      ev.preventDefault();
      ev.stopPropagation();
      endDrag(false);
    }

    /* Ends a drag: keep the new order (drop) or go back to the old one. */
    function endDrag(drop) {
      const d = drag;
      drag = null;
      window.removeEventListener('pointermove', onPointerMove);
      window.removeEventListener('pointerup', onPointerUp);
      window.removeEventListener('pointercancel', onPointerCancel);
      window.removeEventListener('keydown', onDragKey, true);
      if (!d) return;
      cancelAnimationFrame(d.raf);
      if (!d.started) return;
      root.classList.remove('is-dragging-any');
      if (d.li) {
        d.li.classList.remove('is-dragging');
        d.li.style.transform = '';
      }
      if (!alive) return;
      const letter = byId.get(d.id).letter;
      if (!drop) {
        places = d.before;
        render();
        announce(`Move of ${letter} cancelled.`);
        return;
      }
      if (JSON.stringify(places) === JSON.stringify(d.before)) {
        render();
        announce(`${letter} stays where it was.`);
        return;
      }
      changed(`Dropped: ${where(d.id)}`);
      cards.get(d.id).card.focus({ preventScroll: true });
    }

    if (!readOnly) {
      list.addEventListener('keydown', onCardKey);
      list.addEventListener('pointerdown', onPointerDown);
    }

    return {
      value: current,
      valid() {
        return items.length >= 2;
      },
      keys(ev) {
        // Keys on a card are taken by the list's own listener.  From
        // elsewhere, j or k go to the first card.
        if (locked() || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        if ((ev.key === 'j' || ev.key === 'k') && !(ev.target instanceof Element && ev.target.closest('.rank-card'))) {
          const first = cards.get(places[0]?.[0]);
          if (!first) return false;
          first.card.focus();
          return true;
        }
        return false;
      },
      unmount() {
        alive = false;
        if (drag) endDrag(false);
        list.removeEventListener('keydown', onCardKey);
        list.removeEventListener('pointerdown', onPointerDown);
      },
    };
  },
};

export default rankingEditor;
