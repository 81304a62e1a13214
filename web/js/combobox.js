/* combobox.js — an accessible autocomplete (WAI-ARIA 1.2 combobox + listbox).
 *
 * Owns: the keyboard and pointer behaviour of one text input and its
 * suggestion list. Invariants: aria-expanded always tells whether the list
 * is shown; aria-activedescendant names the highlighted option or is absent;
 * only the newest query's answer is shown (older fetches are aborted); the
 * number of suggestions is announced in a polite live region. */
import { t } from './i18n.js';

const DELAY_MS = 120;

export function createCombobox({ input, listbox, status, search, describe, onSelect }) {
    let items = [];
    let active = -1;
    let controller = null;
    let timer = 0;

    function close() {
        listbox.hidden = true;
        listbox.replaceChildren();
        input.setAttribute('aria-expanded', 'false');
        input.removeAttribute('aria-activedescendant');
        items = [];
        active = -1;
    }

    function highlight(index) {
        const options = listbox.querySelectorAll('[role="option"]');
        options.forEach((option, position) => option.setAttribute('aria-selected', String(position === index)));
        active = index;
        if (index >= 0 && options[index]) {
            input.setAttribute('aria-activedescendant', options[index].id);
            options[index].scrollIntoView({ block: 'nearest' });
        } else input.removeAttribute('aria-activedescendant');
    }

    function choose(index) {
        const item = items[index];
        if (!item) return;
        input.value = describe(item).primary;
        close();
        onSelect(item);
    }

    function show(found) {
        items = found;
        listbox.replaceChildren();
        found.forEach((item, index) => {
            const { primary, secondary } = describe(item);
            const option = document.createElement('li');
            option.id = `${listbox.id}-option-${index}`;
            option.setAttribute('role', 'option');
            option.setAttribute('aria-selected', 'false');
            const main = document.createElement('span');
            main.className = 'option-primary';
            main.textContent = primary;
            option.append(main);
            if (secondary) {
                const detail = document.createElement('span');
                detail.className = 'option-secondary';
                detail.textContent = secondary;
                option.append(detail);
            }
            option.addEventListener('mousedown', (event) => event.preventDefault());
            option.addEventListener('click', () => choose(index));
            listbox.append(option);
        });
        const open = found.length > 0;
        listbox.hidden = !open;
        input.setAttribute('aria-expanded', String(open));
        active = -1;
        input.removeAttribute('aria-activedescendant');
        status.textContent = open ? t('suggestions_count', { n: found.length }) : t('no_suggestion');
    }

    async function query() {
        const text = input.value.trim();
        controller?.abort();
        if (text.length < 2 && !/^\d+$/.test(text)) {
            close();
            return;
        }
        controller = new AbortController();
        try {
            show(await search(text, controller.signal));
        } catch (error) {
            if (error.name !== 'AbortError') {
                close();
                status.textContent = t('error', { detail: error.message });
            }
        }
    }

    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listbox.id);
    input.setAttribute('autocomplete', 'off');
    listbox.setAttribute('role', 'listbox');
    listbox.hidden = true;

    input.addEventListener('input', () => {
        clearTimeout(timer);
        timer = setTimeout(query, DELAY_MS);
    });
    input.addEventListener('keydown', (event) => {
        if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            if (listbox.hidden) {
                query();
                return;
            }
            event.preventDefault();
            const step = event.key === 'ArrowDown' ? 1 : -1;
            highlight((active + step + items.length) % items.length);
        } else if (event.key === 'Enter') {
            if (!listbox.hidden && items.length) {
                event.preventDefault();
                choose(active >= 0 ? active : 0);
            }
        } else if (event.key === 'Escape') {
            if (!listbox.hidden) {
                event.preventDefault();
                close();
            }
        }
    });
    input.addEventListener('blur', () => setTimeout(close, 150));
    return { close };
}
