/* uncovered.js — the help shown when no site covers the searched condition.
 *
 * Owns: turning a nearest answer's `uncovered` member (api.js documents it)
 * into words and buttons under the server's message: the more specific
 * conditions that sites do cover, one button each (a click searches that
 * condition, as choosing it in the combobox would), how many more there
 * are, and the filière(s) the data links to the condition. Invariants:
 * every text comes from the API or i18n.js (textContent only, no markup
 * strings); there is always a sentence, even when the data offers nothing
 * (no covered condition, no filière), so an empty map never stands without
 * a word; the labels are the server's, in the answer's language.
 * Importing this module creates nothing. */
import { t, formatInteger } from './i18n.js';

function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
}

/* One button per covered condition: "Neurofibromatose/schwannomatose (4 sites)". */
function conditionButtons(covered, onCondition) {
    const list = element('ul', 'uncovered-conditions');
    for (const condition of covered) {
        const label = condition.label ?? `ORPHA:${condition.orpha}`;
        const button = element('button', 'link-button uncovered-condition', t('uncovered_condition', { label, n: formatInteger(condition.sites) }));
        button.type = 'button';
        button.dataset.orpha = String(condition.orpha);
        button.addEventListener('click', () => onCondition?.({ orpha: condition.orpha, label }));
        const item = element('li');
        item.append(button);
        list.append(item);
    }
    return list;
}

/* "Filière(s) : BRAIN TEAM (Maladie de Huntington), FIMARAD (…)" or the
 * sentence saying the data names none. */
function filiereLine(filieres) {
    if (!filieres.length) return element('p', 'uncovered-filieres', t('uncovered_no_filiere'));
    const names = filieres.map((entry) => t('uncovered_filiere_via', { filiere: entry.filiere, label: entry.label ?? `ORPHA:${entry.orpha}` }));
    return element('p', 'uncovered-filieres', t('uncovered_filieres', { list: names.join(', ') }));
}

/* The help for `uncovered` as one element; onCondition({orpha, label}) runs
 * when a covered condition is chosen. */
export function uncoveredHelp(uncovered, onCondition) {
    const help = element('div', 'uncovered');
    const covered = uncovered.covered_conditions ?? [];
    if (covered.length) {
        help.append(element('p', 'uncovered-intro', t('uncovered_intro', { label: uncovered.label ?? `ORPHA:${uncovered.orpha}` })));
        help.append(conditionButtons(covered, onCondition));
        const more = (uncovered.covered_conditions_total ?? covered.length) - covered.length;
        if (more > 0) help.append(element('p', 'uncovered-more', t('uncovered_more', { n: formatInteger(more) })));
    } else {
        help.append(element('p', 'uncovered-intro', t('uncovered_none')));
    }
    help.append(filiereLine(uncovered.filieres ?? []));
    return help;
}
