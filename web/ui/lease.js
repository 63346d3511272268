// lease.js -- the lease a page holds on a task: its timer, and the
// heartbeats that keep it while the page is open.
//
//   POST /v1/assignments/A/heartbeat   when under a third of the lease is left;
//                                      after a failure, again 5 s later; a 409
//                                      or 404 means the lease is lost
//
// Used by the annotator's workspace (queue.js) and the reviewer's page
// (review.js).  The page owns the timer element and says which assignment
// is on screen; the lease draws the time left in it (text, title and
// data-tone: info, warn near the end or once expired, error once lost) on
// every tick of its one-second ticker, and hides it when there is no
// assignment or the page is done with it.  Times are the server's
// (serverNow() in api.js), so a machine whose clock is off still counts
// right.
//
//   const lease = createLease({ timerEl, getAssignment: () => s.asg, ... });
//   lease.start();              // with the page: the one-second ticker
//   lease.begin(a, seconds);    // a new assignment on screen
//   lease.update();             // redraw now (and heartbeat if it is time)
//   lease.stop();               // when the page goes away

import { api, serverNow } from './api.js';
import { formatDuration } from './dom.js';

const TICK_MS = 1000;
const HEARTBEAT_RETRY_MS = 5000;
const WARN_MAX_MS = 60000; // the timer turns to warn in the last minute at most

/* Options:
 *   timerEl        the element showing the lease (hidden while there is none)
 *   getAssignment  () => the assignment on screen, or null
 *   isDone         () => true once the page is done with it (submitted,
 *                  skipped, decided, refused): the timer is hidden
 *   isBusy         () => true while its submit or decision is under way: no
 *                  heartbeat then
 *   heldFor        who the task is held for, in the timer's tooltip
 *                  ('you', 'your review')
 *   expiredText    the timer's text once the lease has run out
 *   onLost(error)  the heartbeat was refused (409 or 404): the lease is lost */
export function createLease({ timerEl, getAssignment, isDone, isBusy, heldFor, expiredText, onLost }) {
  let expiresAt = 0; // ms since the epoch, server time
  let leaseMs = 0; // the lease's length
  let lost = false;
  let hbInflight = false; // across assignments: one heartbeat at a time
  let hbNotBefore = 0; // after a failed heartbeat, local time
  let ticker = 0;
  let stopped = false;

  /* A new assignment on screen; leaseSeconds is the project's lease_seconds
   * (else the length is taken from the assignment's own times). */
  function begin(a, leaseSeconds) {
    expiresAt = Date.parse(a.expires_at) || 0;
    const created = Date.parse(a.created_at) || 0;
    leaseMs = (Number(leaseSeconds) || 0) * 1000 || Math.max(0, expiresAt - created);
    lost = false;
    hbNotBefore = 0;
  }

  function update() {
    const a = getAssignment();
    if (!a || isDone()) {
      timerEl.hidden = true;
      return;
    }
    timerEl.hidden = false;
    const left = expiresAt - serverNow();
    if (lost) {
      timerEl.textContent = 'Lease ended';
      timerEl.dataset.tone = 'error';
    } else if (left > 0) {
      timerEl.textContent = `Lease: ${formatDuration(left)} left`;
      timerEl.dataset.tone = left < Math.min(WARN_MAX_MS, leaseMs / 3 + 1000) ? 'warn' : 'info';
    } else {
      timerEl.textContent = expiredText;
      timerEl.dataset.tone = 'warn';
    }
    timerEl.title = `This task is held for ${heldFor} until ${new Date(expiresAt).toLocaleTimeString()}; it is extended while this page is open.`;
    if (!lost && !isBusy() && !hbInflight && leaseMs > 0 && left < leaseMs / 3 && Date.now() >= hbNotBefore) heartbeat();
  }

  async function heartbeat() {
    const a = getAssignment();
    hbInflight = true;
    try {
      const r = await api.post(`/v1/assignments/${a.id}/heartbeat`);
      if (getAssignment() === a && r && r.expires_at) expiresAt = Date.parse(r.expires_at) || expiresAt;
    } catch (e) {
      if (getAssignment() !== a) return;
      if (e.status === 409 || e.status === 404) {
        lost = true;
        onLost(e);
      } else {
        hbNotBefore = Date.now() + HEARTBEAT_RETRY_MS;
      }
    } finally {
      hbInflight = false;
      if (!stopped && getAssignment() === a) update();
    }
  }

  function start() {
    stopped = false;
    clearInterval(ticker);
    ticker = setInterval(update, TICK_MS);
  }

  function stop() {
    stopped = true;
    clearInterval(ticker);
    ticker = 0;
  }

  return { begin, update, start, stop };
}
