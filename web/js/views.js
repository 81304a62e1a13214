/* views.js — the two toggles of the full page: patient / planner view, French / English.
 *
 * Owns: which view is shown (the buttons' aria-pressed, body.is-planner,
 * the planner shown or hidden) and the page's language (<html lang>, every
 * data-i18n text, the toggle's own lang). Invariants:
 *  - the view and the language are state (view, lang) written to the URL:
 *    a view change pushes a history entry, a language change replaces it;
 *  - the embed has neither toggle: applyView() does nothing there;
 *  - after a language change, onLanguageChanged() lets the other modules
 *    rewrite the texts they made (map label, list, planner).
 * Importing this module creates nothing. */
import { translateDocument, language } from './i18n.js';
import { writeState } from './state.js';

/* `elements`: viewPatient, viewPlanner, languageButton (null in the embed).
 * `planner`: the planner (null in the embed). Returns {applyView}. */
export function createViews({ mode, state, map, planner, elements, onLanguageChanged }) {
    function applyView() {
        if (mode !== 'full') return;
        const planning = state.view === 'planner';
        elements.viewPatient.setAttribute('aria-pressed', String(!planning));
        elements.viewPlanner.setAttribute('aria-pressed', String(planning));
        document.body.classList.toggle('is-planner', planning);
        if (planning) planner.show();
        else planner.hide();
        map.invalidateSize();
    }

    for (const [button, view] of [[elements.viewPatient, 'patient'], [elements.viewPlanner, 'planner']])
        button?.addEventListener('click', () => {
            state.view = view === 'planner' ? 'planner' : undefined;
            writeState(state, { push: true });
            applyView();
        });

    elements.languageButton?.addEventListener('click', () => {
        const next = language() === 'fr' ? 'en' : 'fr';
        document.documentElement.lang = next;
        state.lang = next;
        translateDocument();
        elements.languageButton.setAttribute('lang', next === 'fr' ? 'en' : 'fr');
        writeState(state);
        onLanguageChanged();
    });

    return { applyView };
}
