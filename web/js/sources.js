/* sources.js — what a site's `source` says, in the reader's words.
 *
 * Owns: reading the `source` member of /api/nearest results, /api/structures
 * features and `sites` tile points (the citation the network files give for
 * each site), and turning it into the line a card, a popup or the planner's
 * table shows. Invariants:
 *  - only `source` is read (a string, or null / '' when unstated); the raw
 *    text is never altered in data exports, only here for display;
 *  - a designation by arrêté shows its year, so a reader knows how old the
 *    list is; a designation known to have been renewed or relabelled since
 *    says so, and every designation line asks the reader to check with the
 *    centre (the lists are official, but old);
 *  - a site whose position was inferred by us (the arrêté names no site)
 *    carries a caveat that says so;
 *  - a document cited by title and publisher shows that reference, without
 *    the name of its file in the repository's sources/;
 *  - anything else is shown as it is.
 * Pure (no DOM, no Leaflet): the functions take the language, so they also
 * run in Node (tests/browser/modules.test.mjs). */
import { translate, language } from './i18n.js';

/* Designations whose later history is known. From geodata/README.md,
 * section "network-crcm-2014.csv" (and network-crcm-2014.notes.md): the
 * arrêté du 16 janvier 2014 designated the centres de ressources et de
 * compétences de la mucoviscidose (CRCM) for four years; the muco network
 * was relabelled in 2017 (that text is not in the repository). Matched on
 * the arrêté's date and the label in parentheses after it. */
export const KNOWN_DESIGNATIONS = [{ day: 16, month: 1, year: 2014, label: 'CRCM', relabelled: 2017 }];

const MONTHS = {
    fr: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
    en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/* "Arrêté du <day> <month> <year>", then optionally " (<label>)". */
const ARRETE = new RegExp(`^\\s*arrêté du (1er|\\d{1,2}) (${MONTHS.fr.join('|')}) (\\d{4})(?: \\(([^)]+)\\))?`, 'iu');

/* The network files' own words for an inferred site (geodata/README.md,
 * network-crcm-2014.csv: "the `source` field says so"). */
const INFERRED = "site non nommé par l'arrêté, déduit de l'organisation de l'établissement";

/* "; sources/<file>" at the end of a seed citation (geodata/README.md, network-seeds.csv). */
const SOURCE_FILE = /\s*;\s*sources\/[^;\s]+\s*$/u;

/* What `source` is: {kind: 'none'} | {kind: 'arrete', day, month, year,
 * label, relabelled, inferred} | {kind: 'document', reference, title} |
 * {kind: 'text', text}. */
export function readSource(source) {
    if (typeof source !== 'string' || source.trim() === '') return { kind: 'none' };
    const text = source.trim();
    const inferred = text.includes(INFERRED);
    const arrete = ARRETE.exec(text);
    if (arrete) {
        const day = arrete[1] === '1er' ? 1 : Number(arrete[1]);
        const month = MONTHS.fr.indexOf(arrete[2].toLowerCase()) + 1;
        const year = Number(arrete[3]);
        const label = arrete[4] ?? null;
        const known = KNOWN_DESIGNATIONS.find(
            (entry) => entry.day === day && entry.month === month && entry.year === year && entry.label === label,
        );
        return { kind: 'arrete', day, month, year, label, relabelled: known?.relabelled ?? null, inferred };
    }
    if (text.startsWith('«') && SOURCE_FILE.test(text)) {
        const reference = text.replace(SOURCE_FILE, '');
        const title = /^«[^»]*»/u.exec(reference)?.[0] ?? reference;
        return { kind: 'document', reference, title, inferred };
    }
    return { kind: 'text', text, inferred };
}

function arreteDate(source, lang) {
    const day = lang === 'fr' && source.day === 1 ? '1er' : String(source.day);
    return `${day} ${MONTHS[lang][source.month - 1]} ${source.year}`;
}

/* The line shown under a site: {text, caveat, quoted}. `text` is the whole
 * source line in `lang`; `caveat` the inferred-site sentence or null;
 * `quoted` the part of `text` that is the source's own (French) words, or
 * null, so that the page can mark its language. */
export function sourceLine(source, lang = language()) {
    const read = readSource(source);
    const caveat = read.inferred ? translate(lang, 'source_inferred') : null;
    switch (read.kind) {
        case 'none':
            return { text: translate(lang, 'source_none'), caveat: null, quoted: null };
        case 'arrete': {
            const values = {
                date: arreteDate(read, lang),
                label: read.label ? ` (${read.label})` : '',
                year: read.year,
                relabelled: read.relabelled,
            };
            const key = read.relabelled ? 'source_arrete_relabelled' : 'source_arrete';
            return { text: translate(lang, key, values), caveat, quoted: null };
        }
        case 'document':
            return { text: translate(lang, 'source_text', { text: read.reference }), caveat: null, quoted: read.reference };
        default:
            return { text: translate(lang, 'source_text', { text: read.text }), caveat: null, quoted: read.text };
    }
}

/* The short form for the planner's table: the designation and its year(s),
 * a document's title, or the text as it is. */
export function sourceShort(source, lang = language()) {
    const read = readSource(source);
    const inferred = read.inferred ? translate(lang, 'source_inferred_short') : '';
    switch (read.kind) {
        case 'none':
            return translate(lang, 'source_none_short');
        case 'arrete': {
            const values = { date: arreteDate(read, lang), label: read.label ? ` (${read.label})` : '', year: read.year, relabelled: read.relabelled };
            return translate(lang, read.relabelled ? 'source_arrete_relabelled_short' : 'source_arrete_short', values) + inferred;
        }
        case 'document':
            return read.title;
        default:
            return read.text;
    }
}

/* The source line as DOM elements: <p class=className> with the line (the
 * source's own words marked lang="fr" when the page is in English), then,
 * for an inferred site, <p class="<className>-caveat"> with the caveat. */
export function sourceElements(source, className = 'site-source') {
    const lang = language();
    const line = sourceLine(source, lang);
    const paragraph = document.createElement('p');
    paragraph.className = className;
    const at = line.quoted ? line.text.lastIndexOf(line.quoted) : -1;
    if (at >= 0 && lang !== 'fr') {
        const quoted = document.createElement('span');
        quoted.lang = 'fr';
        quoted.textContent = line.quoted;
        paragraph.append(line.text.slice(0, at), quoted, line.text.slice(at + line.quoted.length));
    } else paragraph.textContent = line.text;
    if (!line.caveat) return [paragraph];
    const caveat = document.createElement('p');
    caveat.className = `${className}-caveat`;
    caveat.textContent = line.caveat;
    return [paragraph, caveat];
}
