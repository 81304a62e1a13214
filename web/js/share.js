/* share.js — the share dialog and the embed's "open the full map" link.
 *
 * Owns: the permanent link, the <iframe> snippet and their copy buttons,
 * and the link from /embed to the full page. Invariants:
 *  - the permanent link is the current view (state.js's query) on the full
 *    page; from the embed it opens the patient view;
 *  - the embed URL carries only what /embed uses: condition, place, zoom,
 *    platform, public and language (never the planner's filters);
 *  - both are absolute URLs next to the current page, so they also work
 *    under a path prefix;
 *  - the "open the full map" link follows every map move.
 * Importing this module creates nothing; embedUrl, fullUrl and
 * iframeSnippet are pure. */
import { t } from './i18n.js';
import { stateQuery } from './state.js';

/* The /embed URL showing `state` at `zoom`, next to page `pageUrl`. */
export function embedUrl(state, zoom, pageUrl) {
    const embedState = {
        orpha: state.orpha,
        lat: state.lat,
        lon: state.lon,
        place: state.place,
        zoom,
        platform: state.platform,
        public: state.public,
        lang: state.lang,
    };
    return new URL(`embed${stateQuery(embedState)}`, new URL('./', pageUrl)).href;
}

/* The full page's URL for `state`, from page `pageUrl` in `mode` (full or embed). */
export function fullUrl(state, mode, pageUrl) {
    const fullState = { ...state, view: mode === 'embed' ? undefined : state.view };
    return new URL(`./${stateQuery(fullState)}`, pageUrl).href;
}

/* The <iframe> element to paste into another site, for embed URL `src`. */
export function iframeSnippet(src) {
    return `<iframe src="${src}" title="${t('embed_title')}" width="100%" height="520" loading="lazy"></iframe>`;
}

/* Wires the share dialog (full page) or the open-full link (embed) for
 * `state` on `map`. `elements`: shareButton, dialog, permalink, snippet,
 * closeButton, openFull (each null where the page has none) and copyButtons
 * (the [data-copy] buttons, each naming the id of the field it copies).
 * Returns {updateOpenFull}. */
export function createShare({ map, state, mode, elements }) {
    const { shareButton, dialog, permalink, snippet, closeButton, openFull, copyButtons } = elements;
    shareButton?.addEventListener('click', () => {
        permalink.value = fullUrl(state, mode, location.href);
        snippet.value = iframeSnippet(embedUrl(state, map.getZoom(), location.href));
        dialog.showModal();
    });
    for (const button of copyButtons)
        button.addEventListener('click', async () => {
            const field = document.getElementById(button.dataset.copy);
            field.select();
            try {
                await navigator.clipboard.writeText(field.value);
            } catch {
                document.execCommand?.('copy');
            }
            button.textContent = t('copied');
            setTimeout(() => (button.textContent = t('copy')), 1500);
        });
    closeButton?.addEventListener('click', () => dialog.close());

    function updateOpenFull() {
        if (openFull) openFull.href = fullUrl(state, mode, location.href);
    }
    map.on('moveend', updateOpenFull);
    return { updateOpenFull };
}
