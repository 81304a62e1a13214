/* results.js — the list of nearest centres, grouped by hospital.
 *
 * Owns: turning /api/nearest results into list groups (one per hospital,
 * the sites it holds inside) and rendering them. Invariants: groups keep
 * the API's distance order (a group sits at its nearest site's rank); a
 * group's rank number is the number on its map marker, so list and map
 * agree without relying on colour; every text comes from the API or
 * i18n.js, never from markup strings (no HTML injection); every site of a
 * group shows its own public and its own source line (sources.js), since
 * the centres of one hospital can come from different lists. */
import { t, roleWords, publicWords, formatKilometres, language } from './i18n.js';
import { sourceElements } from './sources.js';
import { uncoveredHelp } from './uncovered.js';

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

function directionsUrl(from, group) {
    const route = `${from.lat.toFixed(5)},${from.lon.toFixed(5)};${group.lat.toFixed(5)},${group.lon.toFixed(5)}`;
    return `https://www.openstreetmap.org/directions?route=${encodeURIComponent(route)}`;
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

/* Renders `groups` into the <ol> `list`; onShow(group) is called by each
 * group's "show on map" button. */
export function renderResults(list, groups, { from, queryOrpha, onShow }) {
    list.replaceChildren();
    for (const group of groups) {
        const item = element('li', 'result');
        item.id = `result-${group.rank}`;
        item.tabIndex = -1;
        item.dataset.key = group.key;
        item.dataset.siteIds = group.sites.map((site) => site.site_id).join(' ');
        const heading = element('h3', 'result-name');
        const rank = element('span', 'rank', String(group.rank));
        heading.append(rank, element('span', 'result-title', group.name));
        item.append(heading);
        item.append(element('p', 'result-distance', t('distance', { km: formatKilometres(group.distance) })));
        const address = [group.address, [group.postcode, group.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
        if (address) item.append(element('p', 'result-address', address));
        if (group.sites.length > 1) item.append(element('p', 'result-count', t('sites_here', { n: group.sites.length })));
        const sites = element('ul', 'sites');
        for (const site of group.sites) sites.append(renderSite(site, queryOrpha));
        item.append(sites);
        const actions = element('p', 'result-actions');
        if (group.phone) {
            const digits = group.phone.replace(/[^\d+]/g, '');
            const phone = element('span', 'result-phone', t('phone'));
            const link = element('a', null, /^0\d{9}$/.test(digits) ? digits.replace(/(\d\d)(?=\d)/g, '$1 ') : group.phone);
            link.href = `tel:${digits}`;
            phone.append(link);
            actions.append(phone);
        }
        const show = element('button', 'link-button', t('show_on_map'));
        show.type = 'button';
        show.addEventListener('click', () => onShow(group));
        actions.append(show);
        const directions = element('a', null, t('directions'));
        directions.href = directionsUrl(from, group);
        directions.rel = 'noopener noreferrer';
        directions.target = '_blank';
        actions.append(directions);
        const geo = element('a', null, t('geo_link'));
        geo.href = `geo:${group.lat.toFixed(5)},${group.lon.toFixed(5)}`;
        actions.append(geo);
        item.append(actions);
        list.append(item);
    }
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
