// llm.js -- #/llm: the account's LLM area, where models answer prompts and
// the answers become tasks for people to compare, rank or rate.
//
//   #/llm, #/llm/endpoints        llm-endpoints.js   model endpoints (admins edit)
//   #/llm/prompt-sets             llm-prompts.js     prompt sets, a new one
//   #/llm/prompt-sets/ID          llm-prompts.js     import prompts, preview
//   #/llm/generations             llm-generations.js start one, the list
//   #/llm/generations/ID          llm-generation.js  progress, outputs, make tasks
//
// This module draws the area's head and its three tabs (links, the current
// one marked aria-current) and hands the rest of the page to the section.

import { h } from './dom.js';
import { renderEndpoints } from './llm-endpoints.js';
import { renderPromptSets, renderPromptSet } from './llm-prompts.js';
import { renderGenerations } from './llm-generations.js';
import { renderGeneration } from './llm-generation.js';

const TABS = [
  ['endpoints', 'Model endpoints'],
  ['prompt-sets', 'Prompt sets'],
  ['generations', 'Generations'],
];

/* {section, id} for an #/llm path, or null. */
export function parseLlmRoute(path) {
  if (path === '/llm') return { section: 'endpoints', id: null };
  const m = /^\/llm\/(endpoints|prompt-sets|generations)(?:\/(\d+))?$/.exec(path);
  if (!m || (m[1] === 'endpoints' && m[2])) return null;
  return { section: m[1], id: m[2] ? Number(m[2]) : null };
}

export function renderLlm(root, { me, section, id }) {
  const isAdmin = me?.role === 'admin';
  const body = h('div', { class: 'llm-body' });
  const tabs = h(
    'nav',
    { class: 'llm-tabs', 'aria-label': 'LLM', 'data-testid': 'llm-tabs' },
    TABS.map(([key, name]) => h('a', { href: `#/llm/${key}`, 'data-tab': key, 'aria-current': key === section ? 'page' : null }, name)),
  );
  root.replaceChildren(
    h(
      'section',
      { class: 'llm' },
      h('div', { class: 'ws-head' }, h('h1', { class: 'ws-title' }, 'LLM data')),
      h('p', { class: 'muted llm-intro' }, 'Send prompts to models, keep every answer, and turn the answers into comparison, ranking or rating tasks whose votes make a leaderboard.'),
      tabs,
      body,
    ),
  );
  const ctx = { isAdmin, me };
  if (section === 'endpoints') return renderEndpoints(body, ctx);
  if (section === 'prompt-sets') return id ? renderPromptSet(body, { ...ctx, id }) : renderPromptSets(body, ctx);
  if (section === 'generations') return id ? renderGeneration(body, { ...ctx, id }) : renderGenerations(body, ctx);
  return null;
}
