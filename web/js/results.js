/* results.js — the list of nearest centres, grouped by hospital.
 *
 * Owns: turning /api/nearest results into list groups (one per hospital,
 * the sites it holds inside) and rendering them. Invariants: groups keep
 * the API's distance order (a group sits at its nearest site's rank); a
 * group's rank number is the number on its map marker, so list and map
 * agree without relying on colour; every text comes from the API or
 * i18n.js, never from markup strings (no HTML injection); every site of a
 * group shows its own public and its own source line (sources.js), since
 * the centres of one hospital can come from different lists; every card
 * offers the way there in one tap (card-links.js: its marker, directions
 * in the reader's map service, the phone's maps app, the phone number when
 * known, the address to copy), each control described by the card's title. */
import { t, roleWords, publicWords, formatKilometres, language } from './i18n.js';
import { sourceElements } from './sources.js';
import { uncoveredHelp } from './uncovered.js';
import { MAP_SERVICES, mapService, geoUri, telHref, phoneText, addressLines, copyText } from './card-links.js';

/* Results (in distance order) -> [{key, rank, name, lat, lon, distance, sites}];
 * a hospital is a FINESS number, or a position for sites without one. */
export function groupByHospital(results) {
    const groups = new Map();
    for (const result of results) {
        const key = result.finess || `${result.lat.toFixed(5)},${result.lon.toFixed(5)}`;
        if (!groups.has(key))
            groups.set(key, {
                key,
                rank: groups.size + 1,
                name: result.name || result.site_id,
                lat: result.lat,
                lon: result.lon,
                distance: result.distance_m,
                phone: result.phone,
                city: result.city,
                address: result.address,
                postcode: result.postcode,
                sites: [],
            });
        groups.get(key).sites.push(result);
    }
    return [...groups.values()];
}

function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
}

function renderSite(site, queryOrpha) {
    const item = element('li', 'site');
    item.dataset.siteId = site.site_id;
    item.append(element('p', 'site-centre', site.centre_label || site.name));
    const facts = element('p', 'site-facts');
    facts.append(element('span', 'site-role', roleWords(site.role)));
    if (site.filiere) facts.append(element('span', 'site-filiere', t('filiere', { value: site.filiere })));
    if (site.public) facts.append(element('span', 'site-public', t('public', { value: publicWords(site.public) })));
    item.append(facts);
    const matched = site.orpha_matched;
    if (matched && queryOrpha && matched.orpha !== queryOrpha)
        item.append(element('p', 'site-via', t('via', { label: matched.label ?? `ORPHA:${matched.orpha}` })));
    if (site.responsable) item.append(element('p', 'site-responsable', t('responsable', { value: site.responsable })));
    item.append(...sourceElements(site.source));
    return item;
}

/* The buttons and links that take the reader to the centre of `group`,
 * each described by the card's title (the words are the current language's). */
function renderWayThere(group, { from, service, status, onShow }) {
    const titleId = `result-${group.rank}-title`;
    const described = (node) => {
        node.setAttribute('aria-describedby', titleId);
        return node;
    };
    const actions = element('div', 'result-actions');
    const show = described(element('button', 'card-action result-show', t('show_on_map')));
    show.type = 'button';
    show.addEventListener('click', () => onShow(group));
    actions.append(show);
    const lines = addressLines(group);
    if (lines.length) {
        const copy = described(element('button', 'card-action result-copy', t('card_copy')));
        copy.type = 'button';
        let restore = 0;
        copy.addEventListener('click', async () => {
            const copied = await copyText([group.name, ...lines].join('\n'));
            if (!copied) selectText(copy.closest('.result')?.querySelector('.result-address'));
            announce(status, t(copied ? 'card_copied' : 'card_copy_failed', { name: group.name }));
            copy.textContent = t(copied ? 'card_copied_short' : 'card_copy');
            clearTimeout(restore);
            restore = setTimeout(() => (copy.textContent = t('card_copy')), 2000);
        });
        actions.append(copy);
    }
    // The service is named in the choice above the list; the link says it to screen readers.
    const directions = described(element('a', 'card-action result-directions', t('card_directions')));
    directions.href = service.directions(from, group);
    directions.rel = 'noopener noreferrer';
    directions.target = '_blank';
    directions.append(element('span', 'visually-hidden', t('card_directions_where', { service: t(service.label) })));
    const arrow = element('span', null, '↗');
    arrow.setAttribute('aria-hidden', 'true');
    directions.append(arrow);
    actions.append(directions);
    const geo = described(element('a', 'card-action result-geo', t('card_geo')));
    geo.href = geoUri(group);
    actions.append(geo);
    return actions;
}

/* Selects the text of `node` (when copying failed, for the reader to copy it). */
function selectText(node) {
    if (!node) return;
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
}

/* Says `text` in the live region `status` (emptied first, so that the same
 * words said twice are announced twice). */
function announce(status, text) {
    if (!status) return;
    status.textContent = '';
    setTimeout(() => (status.textContent = text), 50);
}

/* Renders `groups` into the <ol> `list`: per group its number, name,
 * distance, address, phone (a tel: link, when known), the way there
 * (card-links.js: map button, copy button, directions in `service`, geo:
 * link) and its sites. onShow(group) is called by each group's "show on
 * map" button; `from` is the place searched ({lat, lon}); `status` the
 * live region that says the address was copied (optional). */
export function renderResults(list, groups, { from, queryOrpha, onShow, service = mapService(), status = null }) {
    list.replaceChildren();
    for (const group of groups) {
        const item = element('li', 'result');
        item.id = `result-${group.rank}`;
        item.tabIndex = -1;
        item.dataset.key = group.key;
        item.dataset.siteIds = group.sites.map((site) => site.site_id).join(' ');
        const heading = element('h3', 'result-name');
        const title = element('span', 'result-title', group.name);
        title.id = `result-${group.rank}-title`;
        heading.append(element('span', 'rank', String(group.rank)), title);
        item.append(heading);
        const where = element('p', 'result-where');
        where.append(element('span', 'result-distance', t('distance', { km: formatKilometres(group.distance) })));
        const address = addressLines(group).join(', ');
        if (address) where.append(element('span', 'result-address', address));
        item.append(where);
        const tel = telHref(group.phone);
        if (tel) {
            const phone = element('p', 'result-phone', t('phone'));
            const link = element('a', null, phoneText(group.phone));
            link.href = tel;
            phone.append(link);
            item.append(phone);
        }
        item.append(renderWayThere(group, { from, service, status, onShow }));
        if (group.sites.length > 1) item.append(element('p', 'result-count', t('sites_here', { n: group.sites.length })));
        const sites = element('ul', 'sites');
        for (const site of group.sites) sites.append(renderSite(site, queryOrpha));
        item.append(sites);
        list.append(item);
    }
}

/* Fills the <select> of map services (labels in the current language) and selects `service`. */
export function renderServiceChoice(select, service) {
    if (!select) return;
    select.replaceChildren(
        ...MAP_SERVICES.map((entry) => {
            const option = element('option', null, t(entry.label));
            option.value = entry.id;
            return option;
        }),
    );
    select.value = service.id;
}

/* The server's word on the answer, above the list: when no site is listed,
 * the honest "nothing covers it" title and the server's explanation; when
 * sites are listed, the server's `message` alone if it sent one (e.g. the
 * nearest covering site is more than 1,000 km away). The message is in the
 * answer's language (query.lang), marked when the page has changed since.
 * Without a site, the help of `uncovered` follows (uncovered.js); a click on
 * one of its conditions calls onCondition({orpha, label}). */
export function renderMessage(container, body, listed, onCondition) {
    container.replaceChildren();
    if (!listed) container.append(element('p', 'no-site-title', t('no_site')));
    if (body.message) {
        const message = element('p', listed ? 'far-message' : 'no-site-message', body.message);
        const said = body.query?.lang ?? 'fr';
        if (language() !== said) message.lang = said;
        container.append(message);
    }
    if (!listed && body.uncovered) container.append(uncoveredHelp(body.uncovered, onCondition));
}
