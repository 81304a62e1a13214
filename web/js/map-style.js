/* map-style.js — how each tile layer is drawn, and the choropleth classes.
 *
 * Owns: colours, widths and shapes of the basemap, sites, network, areas and
 * établissements layers. Invariants: no information by colour alone — a
 * site's kind is also its shape (square: coordinating site, circle: other
 * sites, number: a cluster's size), a link's kind also its dash; every
 * colour used on the map has a text equivalent in the legend and list. */

export const COLOURS = {
    water: '#d7e6ef',
    land: '#fbf9f4',
    coastline: '#6f8fa3',
    boundary: '#9d8fb3',
    site: '#00539f',
    siteStroke: '#ffffff',
    cluster: '#003b73',
    link: '#6a3d9a',
    etablissement: '#6b6b6b',
};

const COORDINATING_ROLES = new Set(['crmr_coordonnateur', 'platform_coordinator']);

/* Choropleth classes (upper bounds, inclusive); `swatch` is the CSS class of
 * the legend's colour sample (no inline style anywhere). */
export const POPULATION_CLASSES = [
    { upTo: 250000, colour: '#f2f0f7', swatch: 'population-0' },
    { upTo: 500000, colour: '#cbc9e2', swatch: 'population-1' },
    { upTo: 1000000, colour: '#9e9ac8', swatch: 'population-2' },
    { upTo: 2000000, colour: '#756bb1', swatch: 'population-3' },
    { upTo: Infinity, colour: '#54278f', swatch: 'population-4' },
];

/* Share of the population within the radius of a covering site, 0..1. */
export const COVERAGE_CLASSES = [
    { upTo: 0.25, colour: '#d7301f', swatch: 'coverage-0' },
    { upTo: 0.5, colour: '#fc8d59', swatch: 'coverage-1' },
    { upTo: 0.75, colour: '#fdcc8a', swatch: 'coverage-2' },
    { upTo: 0.9, colour: '#b2e2e2', swatch: 'coverage-3' },
    { upTo: Infinity, colour: '#2c7fb8', swatch: 'coverage-4' },
];

export function classOf(classes, value) {
    return classes.find((entry) => value <= entry.upTo);
}

function isDepartement(layerName, properties) {
    return !String(properties.level ?? layerName).toLowerCase().startsWith('region');
}

/* The style of the areas layer for a metric: valueOf(properties) gives the
 * number to classify (undefined: the area is not drawn). */
export function choroplethStyle(valueOf, classes) {
    return (layerName, properties, type) => {
        if (type !== 3 || !isDepartement(layerName, properties)) return null;
        const value = valueOf(properties);
        if (value === undefined || value === null || !Number.isFinite(Number(value))) return null;
        return { fill: classOf(classes, Number(value)).colour, stroke: '#ffffff', width: 0.6 };
    };
}

export function basemapStyle(layerName, properties, type) {
    const name = layerName.toLowerCase();
    if (type === 3) return { fill: COLOURS.land, stroke: name.includes('land') ? null : COLOURS.boundary, width: 0.5 };
    if (type === 2) {
        if (name.includes('coast')) return { stroke: COLOURS.coastline, width: 1 };
        const level = String(properties.level ?? properties.kind ?? properties.admin_level ?? '');
        if (level.startsWith('region') || level === '4') return { stroke: COLOURS.boundary, width: 1.2 };
        return { stroke: COLOURS.boundary, width: 0.6, dash: [3, 2] };
    }
    return null;
}

/* A cluster (server side: cluster=true, point_count) or a site point; a point
 * folding several sites at one position has count > 1 and says how many. */
export function isCluster(properties) {
    return properties.cluster === true || properties.cluster === 1 || Number(properties.point_count ?? 0) > 1;
}

export function siteStyle(layerName, properties) {
    if (isCluster(properties)) {
        const count = Number(properties.point_count ?? 0);
        return {
            fill: COLOURS.cluster,
            stroke: COLOURS.siteStroke,
            width: 2,
            radius: Math.min(22, 10 + Math.log2(Math.max(count, 1)) * 2.5),
            label: count > 999 ? `${Math.round(count / 1000)}k` : String(count),
            hit: true,
        };
    }
    const folded = Number(properties.count ?? 1);
    return {
        fill: COLOURS.site,
        stroke: COLOURS.siteStroke,
        width: 1.5,
        radius: folded > 1 ? 9 : 6,
        shape: COORDINATING_ROLES.has(properties.role) ? 'square' : 'circle',
        label: folded > 1 ? String(folded) : null,
        hit: true,
    };
}

export function networkStyle(layerName, properties) {
    const cooperation = String(properties.kind ?? '').startsWith('coop');
    return { stroke: COLOURS.link, width: 1.5, dash: cooperation ? [5, 4] : [] };
}

export const areaStyle = choroplethStyle((properties) => properties.population, POPULATION_CLASSES);

export function etablissementStyle() {
    return { fill: COLOURS.etablissement, radius: 2 };
}
