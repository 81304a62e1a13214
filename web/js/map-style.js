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

/* Share of the population within the radius of a covering site, 0..1.
 * Viridis (5 classes; perceptually uniform, read alike with any common
 * colour-vision deficiency and in grey, no red/green pair): the darkest
 * class is the least covered, so the areas where people live far from care
 * stand out. The legend writes every class's limits (planner.js). */
export const COVERAGE_CLASSES = [
    { upTo: 0.25, colour: '#440154', swatch: 'coverage-0' },
    { upTo: 0.5, colour: '#3b528b', swatch: 'coverage-1' },
    { upTo: 0.75, colour: '#21918c', swatch: 'coverage-2' },
    { upTo: 0.9, colour: '#5ec962', swatch: 'coverage-3' },
    { upTo: Infinity, colour: '#fde725', swatch: 'coverage-4' },
];

export function classOf(classes, value) {
    return classes.find((entry) => value <= entry.upTo);
}

/* The style of the areas layer for a metric: valueOf(properties) gives the
 * number to classify (not a finite number: the area is not drawn). Only
 * the areas of `level` are drawn (the layer's features have level
 * "departement" or "region"; départements by default). */
export function choroplethStyle(valueOf, classes, level = 'departement') {
    return (layerName, properties, type) => {
        if (type !== 3 || properties.level !== level) return null;
        const value = valueOf(properties);
        if (!Number.isFinite(value)) return null;
        return { fill: classOf(classes, value).colour, stroke: '#ffffff', width: 0.6 };
    };
}

/* The basemap layer's features: kind "land" (polygons), "coastline", and
 * "boundary" with level "region" or "departement" (lines). Région
 * boundaries are solid; département boundaries and the coastline are thin
 * and dashed (so COLOURS.coastline is not used at present). */
export function basemapStyle(layerName, properties, type) {
    if (type === 3) return { fill: COLOURS.land, stroke: COLOURS.boundary, width: 0.5 };
    if (type === 2) {
        if (properties.kind === 'boundary' && properties.level === 'region') return { stroke: COLOURS.boundary, width: 1.2 };
        return { stroke: COLOURS.boundary, width: 0.6, dash: [3, 2] };
    }
    return null;
}

/* A cluster (cluster=true, with point_count and expansion_zoom) or a site
 * point; a point folding several sites at one position has count > 1. */
export function isCluster(properties) {
    return properties.cluster === true;
}

export function siteStyle(layerName, properties) {
    if (isCluster(properties)) {
        const count = properties.point_count;
        return {
            fill: COLOURS.cluster,
            stroke: COLOURS.siteStroke,
            width: 2,
            radius: Math.min(22, 10 + Math.log2(Math.max(count, 1)) * 2.5),
            label: count > 999 ? `${Math.round(count / 1000)}k` : String(count),
            hit: true,
        };
    }
    const folded = properties.count;
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

/* The network layer's links: kind "coordinator" (solid) or "cooperation" (dashed). */
export function networkStyle(layerName, properties) {
    const cooperation = properties.kind === 'cooperation';
    return { stroke: COLOURS.link, width: 1.5, dash: cooperation ? [5, 4] : [] };
}

export const areaStyle = choroplethStyle((properties) => properties.population, POPULATION_CLASSES);

export function etablissementStyle() {
    return { fill: COLOURS.etablissement, radius: 2 };
}
