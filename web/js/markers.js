/* markers.js — the page's Leaflet markers: the sites and clusters of the
 * `sites` tiles, the searched place and the numbered results.
 *
 * Owns: building markers and site popups from tile properties and result
 * groups. Invariants:
 *  - every interactive marker is a keyboard button (Enter and Space do what
 *    a click does) labelled in words (aria-label), never by colour alone;
 *    Escape on a result marker also leads back to its list entry;
 *  - a site marker's data-site-ids lists the sites it stands for; a result
 *    marker's data-rank is its number in the list, and its data-site-ids
 *    those of its list entry;
 *  - the tile properties read are the server's (tiles/sites.json): a
 *    cluster has cluster=true, point_count and expansion_zoom; a site point
 *    has site_id, name (absent when unknown), role, centre_label, public,
 *    source (of its lead site), and count, which above 1 means sites folded
 *    at one position, listed '|'-joined and aligned in site_ids, names,
 *    centre_labels, roles, publics and sources (an unstated public or
 *    source is the empty string);
 *  - a popup lists every site it stands for (12 at most) with its centre,
 *    role, public and source line (sources.js), like a result card.
 * Importing this module creates nothing; Leaflet (window.L) is needed only
 * to build markers, so the pure helpers also run in Node. */
import { t, roleWords, publicWords, formatKilometres } from './i18n.js';
import { isCluster } from './map-style.js';
import { sourceElements } from './sources.js';

const COORDINATING_ROLES = new Set(['crmr_coordonnateur', 'platform_coordinator']);

/* Runs `handler` on a marker's click and on Enter or Space while it has the
 * focus (Leaflet markers are role=button but only popups handle Enter). */
export function onActivate(marker, handler) {
    marker.on('click', handler);
    marker.on('keypress', (event) => {
        const key = event.originalEvent.key;
        if (key === 'Enter' || key === ' ') {
            event.originalEvent.preventDefault();
            handler();
        }
    });
}

/* The sites of one site point of the tiles: itself, or the sites it folds. */
export function sitesOfPoint(properties) {
    if (properties.count <= 1) return [properties];
    const split = (name) => (typeof properties[name] === 'string' ? properties[name].split('|') : []);
    const [names, centres, roles, publics, sources] = ['names', 'centre_labels', 'roles', 'publics', 'sources'].map(split);
    return split('site_ids').map((siteId, index) => ({
        site_id: siteId,
        name: names[index],
        centre_label: centres[index],
        role: roles[index],
        public: publics[index] || null,
        source: sources[index] || null,
    }));
}

function paragraph(className, text) {
    const node = document.createElement('p');
    if (className) node.className = className;
    node.textContent = text;
    return node;
}

/* A popup's content: the hospital's name (once when its sites share it),
 * then each site's centre, role, public and source line (12 sites at most). */
export function sitePopup(sites) {
    const box = document.createElement('div');
    box.className = 'site-popup';
    const shown = sites.slice(0, 12);
    const oneName = shown.every((site) => site.name === shown[0].name) && shown[0].name;
    if (oneName) box.append(paragraph('popup-title', oneName));
    for (const site of shown) {
        const entry = document.createElement('div');
        entry.className = 'popup-site';
        if (!oneName) entry.append(paragraph('popup-title', site.name || site.site_id));
        if (site.centre_label) entry.append(paragraph('popup-centre', site.centre_label));
        const facts = [roleWords(site.role)];
        if (site.public) facts.push(t('public', { value: publicWords(site.public) }));
        entry.append(paragraph('popup-facts', facts.filter(Boolean).join(' — ')));
        entry.append(...sourceElements(site.source, 'popup-source'));
        box.append(entry);
    }
    return box;
}

function clusterMarker(map, properties, latlng) {
    const L = window.L;
    const count = properties.point_count;
    const text = document.createElement('span');
    text.textContent = String(count);
    const size = Math.round(Math.min(44, 24 + Math.log2(Math.max(count, 1)) * 4));
    const label = t('zoom_in_cluster', { n: count });
    const marker = L.marker(latlng, {
        icon: L.divIcon({ className: 'cluster-marker', html: text, iconSize: [size, size] }),
        title: label,
        pane: 'sitesPane',
    });
    marker.on('add', () => marker.getElement()?.setAttribute('aria-label', label));
    onActivate(marker, () => {
        const target = properties.expansion_zoom;
        const zoom = target > map.getZoom() ? target : map.getZoom() + 2;
        map.setView(latlng, Math.min(zoom, map.getMaxZoom()));
    });
    return marker;
}

/* The pointToLayer of the sites tile layer on `map`: a numbered circle for
 * a cluster (zooms in on activation), a site symbol with a popup listing
 * its sites otherwise (square: coordinating site; number: folded sites). */
export function siteMarkerFactory(map) {
    return (properties, latlng) => {
        if (isCluster(properties)) return clusterMarker(map, properties, latlng);
        const L = window.L;
        const sites = sitesOfPoint(properties);
        const folded = sites.length > 1;
        const text = document.createElement('span');
        text.textContent = folded ? String(sites.length) : '';
        const coordinating = sites.some((site) => COORDINATING_ROLES.has(site.role));
        const label = folded
            ? `${properties.name ?? ''} : ${t('sites_count', { n: sites.length })}`
            : (properties.name ?? properties.site_id);
        const marker = L.marker(latlng, {
            icon: L.divIcon({
                className: `site-marker${coordinating ? ' is-coordinating' : ''}${folded ? ' is-folded' : ''}`,
                html: text,
                iconSize: folded ? [22, 22] : [14, 14],
            }),
            title: label,
            pane: 'sitesPane',
        });
        marker.on('add', () => {
            const element = marker.getElement();
            element?.setAttribute('aria-label', label);
            if (element) element.dataset.siteIds = sites.map((site) => site.site_id).join(' ');
        });
        marker.bindPopup(() => sitePopup(sites), { maxWidth: 320, maxHeight: 400 });
        return marker;
    };
}

/* Replaces the content of `layer` (a layer group on the map) by the place
 * searched, {lat, lon, label} or null, and one numbered marker per result
 * group; onChoose(group) runs when a result marker is activated, or left
 * with Escape (back to its list entry).
 * Returns group key -> marker. */
export function drawResultMarkers(layer, place, groups, onChoose) {
    const L = window.L;
    layer.clearLayers();
    const markerByKey = new Map();
    if (!place) return markerByKey;
    const you = document.createElement('span');
    you.className = 'place-symbol';
    you.textContent = '★';
    L.marker([place.lat, place.lon], {
        icon: L.divIcon({ className: 'place-marker', html: you, iconSize: [26, 26] }),
        keyboard: false,
        interactive: false,
        title: place.label,
        zIndexOffset: -100,
    }).addTo(layer);
    for (const group of groups) {
        const label = t('marker_label', { rank: group.rank, name: group.name, km: formatKilometres(group.distance) });
        const number = document.createElement('span');
        number.textContent = String(group.rank);
        const marker = L.marker([group.lat, group.lon], {
            icon: L.divIcon({ className: 'rank-marker', html: number, iconSize: [30, 30] }),
            title: label,
            riseOnHover: true,
            zIndexOffset: 1000 - group.rank,
        }).addTo(layer);
        const element = marker.getElement();
        element.setAttribute('aria-label', label);
        element.dataset.siteIds = group.sites.map((site) => site.site_id).join(' ');
        element.dataset.rank = String(group.rank);
        onActivate(marker, () => onChoose(group));
        element.addEventListener('keydown', (event) => {
            if (event.key !== 'Escape') return;
            event.preventDefault();
            onChoose(group);
        });
        markerByKey.set(group.key, marker);
    }
    return markerByKey;
}
