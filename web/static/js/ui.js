// ui.js: Preact with hooks and htm in one import, and small helpers every
// page uses. Pages write markup with html`...`: every ${value} is text or an
// attribute value, escaped by Preact. Nothing here (or anywhere in the pages)
// sets innerHTML or dangerouslySetInnerHTML.
import { h, render, Component, createContext, toChildArray, Fragment } from '../vendor/preact.module.js';
import htm from '../vendor/htm.module.js';

export { h, render, Component, createContext, toChildArray, Fragment };
export {
  useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useContext, useReducer, useId,
} from '../vendor/hooks.module.js';

export const html = htm.bind(h);

// safeUrl returns u when it is an http(s), mailto:, tel: or same-site URL,
// and undefined otherwise (a javascript: or data: link from a campaign or a
// representative's record never becomes a link).
export function safeUrl(u) {
  if (typeof u !== 'string' || u === '') return undefined;
  try {
    const url = new URL(u, location.href);
    if (['http:', 'https:', 'mailto:', 'tel:'].includes(url.protocol)) return url.href;
  } catch (_) { /* not a URL */ }
  return undefined;
}

// classes joins the truthy arguments with spaces.
export function classes(...names) {
  return names.filter(Boolean).join(' ');
}

// sleep waits ms milliseconds (for polling, never to paper over a race).
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// setTitle sets the document title ("X — Changemaker").
export function setTitle(title) {
  document.title = title ? `${title} — Changemaker` : 'Changemaker';
}

// Spinner is a polite "working" line for screen readers and eyes.
export function Spinner({ label }) {
  return html`<p class="spinner" role="status" aria-live="polite"><span class="spinner-dot" aria-hidden="true"></span>${label}</p>`;
}

// Alert shows an error (role=alert) or a notice.
export function Alert({ kind = 'error', children }) {
  return html`<div class=${classes('alert', `alert-${kind}`)} role=${kind === 'error' ? 'alert' : 'status'}>${children}</div>`;
}
