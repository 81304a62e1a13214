/* labels.js — place names drawn by the page over the map.
 *
 * Owns: the `places` tiles of the view (/tiles/places/{z}/{x}/{y}.mvt, point
 * features with name, code, population, rank, kind), the choice of the
 * names shown, and their drawing on one canvas for the whole view (pane
 * labelsPane, under the site and result markers). Invariants:
 *  - labels are placed over the union of the view's tiles, never per tile:
 *    a place near a tile edge is drawn once, whole;
 *  - no two placed labels overlap, and none overlaps a result marker, the
 *    searched place's star, a site marker (which lie above the labels), a
 *    map control or the overseas insets; a name is placed at most once;
 *  - pinned places (setPinned: the searched place and the results' towns)
 *    are placed first, beside their marker, spelt as the tiles spell the
 *    town when a loaded tile has it ("CRETEIL" -> "Créteil"); then the tiles' places in rank
 *    order (0 first), then by population; a place that finds no free spot
 *    is left out;
 *  - labels are placed again after every move or zoom, when tiles arrive,
 *    when the site markers were redrawn and when the pins change; during a
 *    zoom animation the canvas is hidden;
 *  - without a `places` layer on the server only pinned places are drawn;
 *    tiles are asked within the layer's TileJSON zoom range only.
 * Importing this module creates nothing; createLabels() needs a Leaflet map. */
import { tileJson, fetchVectorTile } from './mvt-layer.js';

const TEXT_COLOUR = '#1b1f24';
const HALO_COLOUR = '#ffffff';
const HALO_WIDTH = 3;
const SPACING = 6;           /* CSS px kept free around each label */
const FONT_FAMILY = 'system-ui, sans-serif';
const SPELLING_ZOOM = 11;    /* places tiles hold every commune from this zoom (tiles/places.json) */
const MAX_TILES = 64;        /* tiles asked for one view at most */
const CACHE_TILES = 256;     /* decoded tiles kept */
/* What labels must not hide: the markers above them, the map's controls
 * (zoom, scale, legend, credit) and the overseas insets laid over the map. */
const OBSTACLES = '.rank-marker, .place-marker, .site-marker, .cluster-marker, .leaflet-control';
const PAGE_OBSTACLES = '.insets:not([hidden])';

/* Font of a label: pinned places and large towns larger and bolder. */
function labelFont(place) {
    if (place.pinned) return { size: 13, weight: 700 };
    if (place.population >= 200000) return { size: 15, weight: 700 };
    if (place.population >= 50000) return { size: 14, weight: 700 };
    if (place.population >= 10000) return { size: 13, weight: 600 };
    if (place.population >= 2000) return { size: 12, weight: 500 };
    return { size: 11, weight: 400 };
}

/* Offsets (label centre from the point, CSS px) to try in order: on the
 * point (towns of the tiles only), then above, below, right, left of it,
 * then diagonally, at each of `gaps` pixels; a label of `width` x `height`. */
function offsets(width, height, gaps, onPoint) {
    const list = onPoint ? [[0, 0]] : [];
    for (const gap of gaps) {
        const [dx, dy] = [gap + width / 2, gap + height / 2];
        list.push([0, -dy], [0, dy], [dx, 0], [-dx, 0], [dx, -dy], [-dx, -dy], [dx, dy], [-dx, dy]);
    }
    return list;
}

function overlaps(a, b) {
    return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/* Places `candidates` ([{name, x, y, pinned, font}], in priority order, x/y
 * in CSS px of the view) in a view of `size` ({x, y}) avoiding `obstacles`
 * (boxes {x, y, width, height}); measure(text, font) gives a text's width.
 * Returns [{name, pinned, font, x, y, width, height}]: each name once, no
 * two boxes closer than SPACING, every box inside the view. Pure. */
export function placeLabels(candidates, obstacles, size, measure) {
    const placed = [];
    const names = new Set();
    for (const candidate of candidates) {
        const key = foldName(candidate.name);
        if (!key || names.has(key)) continue;
        const width = Math.ceil(measure(candidate.name, candidate.font)) + HALO_WIDTH * 2;
        const height = candidate.font.size + HALO_WIDTH * 2;
        const gaps = candidate.pinned ? [17, 30] : [6, 24, 40];
        for (const [dx, dy] of offsets(width, height, gaps, !candidate.pinned)) {
            const box = { x: candidate.x + dx - width / 2, y: candidate.y + dy - height / 2, width, height };
            if (box.x < 0 || box.y < 0 || box.x + box.width > size.x || box.y + box.height > size.y) continue;
            const spaced = { x: box.x - SPACING, y: box.y - SPACING, width: width + 2 * SPACING, height: height + 2 * SPACING };
            if (placed.some((other) => overlaps(spaced, other)) || obstacles.some((other) => overlaps(spaced, other))) continue;
            placed.push({ name: candidate.name, pinned: Boolean(candidate.pinned), font: candidate.font, ...box });
            names.add(key);
            break;
        }
    }
    return placed;
}

/* A name folded for comparison: no case, accent, hyphen or apostrophe
 * ("FORT DE FRANCE" and "Fort-de-France" fold alike). */
export function foldName(name) {
    return name
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[-'’\s]+/g, ' ')
        .trim();
}

const SMALL_WORDS = new Set(['de', 'du', 'des', 'la', 'le', 'les', 'sur', 'sous', 'en', 'et', 'lès', 'aux', 'au']);

/* A town written in capitals (as FINESS writes them) in the usual case:
 * "FORT DE FRANCE" -> "Fort de France", "SAINT-DENIS" -> "Saint-Denis";
 * other names are kept. */
export function townCase(name) {
    if (name !== name.toUpperCase()) return name;
    let first = true;
    return name.toLowerCase().replace(/[^\s-]+/g, (word) => {
        const small = !first && SMALL_WORDS.has(word);
        first = false;
        return small ? word : word.charAt(0).toUpperCase() + word.slice(1);
    });
}

/* The pins of a search: the place searched (state.place, when it has a
 * name) and each result group's town ({city, lat, lon}). */
export function pinnedPlaces(state, groups) {
    const pins = [];
    if (state.place && state.lat !== undefined) pins.push({ name: state.place, lat: state.lat, lon: state.lon });
    for (const group of groups) if (group.city) pins.push({ name: group.city, lat: group.lat, lon: group.lon });
    return pins;
}

/* Labels over `map`; the places tiles are asked once `after` resolves (the
 * main map has drawn: they must not delay its first paint). Returns
 * {setPinned(pins), schedule(), placed()}: setPinned([{name, lat, lon}])
 * replaces the pinned places; schedule() places the labels again at the
 * next frame; placed() gives the labels drawn, [{name, pinned, x, y,
 * width, height}] in CSS px of the map. */
export function createLabels(map, after = Promise.resolve()) {
    const L = window.L;
    const pane = map.createPane('labelsPane');
    pane.style.zIndex = '355';
    pane.classList.add('labels-pane');
    const canvas = L.DomUtil.create('canvas', 'labels-canvas', pane);
    canvas.setAttribute('aria-hidden', 'true');
    const context = canvas.getContext('2d');
    const tiles = new Map(); /* 'z/x/y' -> {places: [{name, code, population, rank, latlng}] or null while loading} */
    let range = null;        /* the places layer's {minzoom, maxzoom}, null without one */
    let pins = [];
    let placed = [];
    let frame = 0;

    after.then(() => tileJson('places')).then((description) => {
        if (description) range = { minzoom: description.minzoom, maxzoom: description.maxzoom };
        schedule();
    });

    /* The tile's places once loaded, else null (and the tile is asked). */
    function tilePlaces(z, x, y) {
        const key = `${z}/${x}/${y}`;
        let entry = tiles.get(key);
        if (entry) tiles.delete(key); /* most recently used last */
        else {
            entry = { places: null };
            fetchVectorTile(`tiles/places/${z}/${x}/${y}.mvt`)
                .then((vectorTile) => {
                    entry.places = decodePlaces(vectorTile, z, x, y);
                    schedule();
                })
                .catch((error) => {
                    tiles.delete(key);
                    console.warn(`places tile ${key}: ${error.message}`);
                });
        }
        tiles.set(key, entry);
        while (tiles.size > CACHE_TILES) tiles.delete(tiles.keys().next().value);
        return entry.places;
    }

    function decodePlaces(vectorTile, z, x, y) {
        const layer = vectorTile?.layers.places;
        if (!layer) return [];
        const places = [];
        for (let index = 0; index < layer.length; index++) {
            const feature = layer.feature(index);
            const { name, code, population, rank } = feature.properties;
            if (typeof name !== 'string' || feature.type !== 1) continue;
            for (const ring of feature.loadGeometry())
                for (const point of ring) {
                    const pixel = L.point((x + point.x / layer.extent) * 256, (y + point.y / layer.extent) * 256);
                    places.push({ name, code, population: population ?? 0, rank: rank ?? Infinity, latlng: map.unproject(pixel, z) });
                }
        }
        return places;
    }

    /* The loaded tiles' places of the view (tiles not yet loaded are asked). */
    function viewPlaces() {
        if (!range || map.getZoom() < range.minzoom) return [];
        const z = Math.min(Math.round(map.getZoom()), range.maxzoom);
        const bounds = map.getBounds();
        const northWest = map.project(bounds.getNorthWest(), z).divideBy(256).floor();
        const southEast = map.project(bounds.getSouthEast(), z).divideBy(256).floor();
        const last = 2 ** z - 1;
        const found = [];
        let asked = 0;
        for (let x = northWest.x; x <= southEast.x; x++)
            for (let y = Math.max(0, northWest.y); y <= Math.min(last, southEast.y); y++) {
                if (++asked > MAX_TILES) return found;
                const places = tilePlaces(z, ((x % (last + 1)) + last + 1) % (last + 1), y);
                if (places) found.push(...places);
            }
        return found;
    }

    /* A pin's name as the places tiles spell it: the commune of that folded
     * name in the pin's tile at SPELLING_ZOOM, or among the view's places;
     * else in the usual case (townCase). */
    function spelling(pin, places) {
        const folded = foldName(pin.name);
        let found = places.find((place) => foldName(place.name) === folded);
        if (!found && range) {
            const z = Math.max(range.minzoom, Math.min(SPELLING_ZOOM, range.maxzoom));
            const tile = map.project(pin.latlng, z).divideBy(256).floor();
            found = tilePlaces(z, tile.x, tile.y)?.find((place) => foldName(place.name) === folded);
        }
        return found?.name ?? townCase(pin.name);
    }

    /* The boxes of what lies over the labels (OBSTACLES), in CSS px of the map. */
    function obstacles() {
        const origin = map.getContainer().getBoundingClientRect();
        const elements = [...map.getContainer().querySelectorAll(OBSTACLES), ...document.querySelectorAll(PAGE_OBSTACLES)];
        return elements.map((element) => {
            const box = element.getBoundingClientRect();
            return { x: box.left - origin.left, y: box.top - origin.top, width: box.width, height: box.height };
        });
    }

    function measure(text, font) {
        context.font = `${font.weight} ${font.size}px ${FONT_FAMILY}`;
        return context.measureText(text).width;
    }

    function candidates() {
        const byPriority = (a, b) => a.rank - b.rank || b.population - a.population || a.name.localeCompare(b.name, 'fr');
        const toCandidate = (place) => {
            const point = map.latLngToContainerPoint(place.latlng);
            return { name: place.name, pinned: place.pinned, x: point.x, y: point.y, font: labelFont(place) };
        };
        const places = viewPlaces();
        const inView = map.getBounds();
        const pinned = pins
            .map((pin) => ({ ...pin, latlng: L.latLng(pin.lat, pin.lon) }))
            .filter((pin) => inView.contains(pin.latlng))
            .map((pin) => ({ name: spelling(pin, places), pinned: true, latlng: pin.latlng }));
        return [...pinned, ...places.sort(byPriority)].map(toCandidate);
    }

    function draw() {
        frame = 0;
        const size = map.getSize();
        const ratio = window.devicePixelRatio || 1;
        canvas.width = size.x * ratio;
        canvas.height = size.y * ratio;
        canvas.style.width = `${size.x}px`;
        canvas.style.height = `${size.y}px`;
        L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
        placed = placeLabels(candidates(), obstacles(), size, measure);
        context.setTransform(ratio, 0, 0, ratio, 0, 0);
        context.clearRect(0, 0, size.x, size.y);
        context.textAlign = 'center';
        context.textBaseline = 'middle';
        context.lineJoin = 'round';
        for (const label of placed) {
            context.font = `${label.font.weight} ${label.font.size}px ${FONT_FAMILY}`;
            const x = label.x + label.width / 2;
            const y = label.y + label.height / 2;
            context.lineWidth = HALO_WIDTH;
            context.strokeStyle = HALO_COLOUR;
            context.strokeText(label.name, x, y);
            context.fillStyle = TEXT_COLOUR;
            context.fillText(label.name, x, y);
        }
        canvas.style.visibility = '';
    }

    function schedule() {
        if (!frame) frame = requestAnimationFrame(draw);
    }

    map.on('zoomstart', () => {
        canvas.style.visibility = 'hidden';
    });
    map.on('moveend resize', schedule);
    schedule();

    return {
        setPinned(next) {
            pins = next.filter((pin) => pin.name && Number.isFinite(pin.lat) && Number.isFinite(pin.lon));
            schedule();
        },
        schedule,
        placed: () => placed.map(({ name, pinned, x, y, width, height }) => ({ name, pinned, x, y, width, height })),
    };
}
