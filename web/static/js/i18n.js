// i18n.js: the pages' languages (English and French). The language is the
// visitor's choice from the switch on every page (the cm_lang cookie, read by
// the server too, so the HTML it sends is already in that language), else the
// one the server picked from Accept-Language (<html lang>).
//
//   t('campaign.send')                 → the string in the current language
//   t('campaign.sentTo', {n: 3})       → "{n}" replaced by 3
//   addStrings('fr', {...})            → more strings (the admin pages add theirs)
//   onLanguageChange(fn)               → fn(lang) after setLanguage
import en from '../i18n/en.js';
import fr from '../i18n/fr.js';

export const LANGUAGES = ['en', 'fr'];
const tables = { en: { ...en }, fr: { ...fr } };
const listeners = new Set();
let current = pick();

function pick() {
  const m = document.cookie.match(/(?:^|;\s*)cm_lang=(en|fr)(?:;|$)/);
  if (m) return m[1];
  const l = (document.documentElement.lang || '').slice(0, 2);
  return LANGUAGES.includes(l) ? l : 'en';
}

export function lang() {
  return current;
}

export function addStrings(language, strings) {
  Object.assign(tables[language], strings);
}

export function t(key, vars) {
  let s = tables[current][key] ?? tables.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// setLanguage switches the pages to l and remembers it for a year.
export function setLanguage(l) {
  if (!LANGUAGES.includes(l) || l === current) return;
  current = l;
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `cm_lang=${l}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// formatDate shows a date in the current language.
export function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleDateString(current === 'fr' ? 'fr-CA' : 'en-CA', { year: 'numeric', month: 'long', day: 'numeric' });
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current === 'fr' ? 'fr-CA' : 'en-CA').format(n);
}
