/* mvt-layer.js — a Leaflet grid layer that draws our Mapbox Vector Tiles on canvas.
 *
 * Owns: fetching /tiles/{layer}/{z}/{x}/{y}.mvt, decoding it with
 * @mapbox/vector-tile + pbf (vendored ES modules), painting it with a style
 * function, and hit-testing the points it drew (clusters and sites).
 * Invariants:
 *  - tiles are requested only within the layer's [minzoom, maxzoom] from its
 *    TileJSON (the server answers 400 beyond maxzoom); Leaflet scales the
 *    last native zoom above it;
 *  - a 204 or 404 answer is an empty tile, never an error on the map;
 *  - a tile's fetch is aborted when Leaflet unloads the tile, and its hit
 *    list is dropped with it;
 *  - the style function decides everything visual: style(layerName,
 *    properties, type, zoom) returns null (not drawn) or
 *    {fill, stroke, width, dash, radius, shape, label, labelColor, hit};
 *  - with the pointToLayer option, point features become Leaflet layers
 *    (markers: crisp, never clipped at a tile edge, keyboard-focusable)
 *    instead of canvas drawings; they live exactly as long as their tile. */
import { VectorTile } from '../vendor/mvt/vector-tile.js';
import Pbf from '../vendor/mvt/pbf.js';

const L = window.L;
const POINT = 1;
const LINE = 2;
const POLYGON = 3;

/* The decoded tile at `url` (a VectorTile), or null for an empty tile (204,
 * 404, no body). Rejects on a network error or abort (AbortError). The one
 * fetch-and-decode of the page's vector tiles (this layer, labels.js). */
export async function fetchVectorTile(url, signal) {
    const response = await fetch(url, { signal });
    if (!response.ok || response.status === 204) return null;
    const buffer = await response.arrayBuffer();
    return buffer.byteLength > 0 ? new VectorTile(new Pbf(buffer)) : null;
}

function tileKey(coords) {
    return `${coords.x}:${coords.y}:${coords.z}`;
}

function drawPoint(context, x, y, style, ratio) {
    const radius = (style.radius ?? 5) * ratio;
    context.beginPath();
    if (style.shape === 'square') context.rect(x - radius, y - radius, radius * 2, radius * 2);
    else if (style.shape === 'diamond') {
        context.moveTo(x, y - radius * 1.3);
        context.lineTo(x + radius * 1.3, y);
        context.lineTo(x, y + radius * 1.3);
        context.lineTo(x - radius * 1.3, y);
        context.closePath();
    } else context.arc(x, y, radius, 0, Math.PI * 2);
    if (style.fill) {
        context.fillStyle = style.fill;
        context.fill();
    }
    if (style.stroke) {
        context.lineWidth = (style.width ?? 1) * ratio;
        context.strokeStyle = style.stroke;
        context.stroke();
    }
    if (style.label) {
        context.fillStyle = style.labelColor ?? '#fff';
        context.font = `bold ${Math.round(11 * ratio)}px system-ui, sans-serif`;
        context.textAlign = 'center';
        context.textBaseline = 'middle';
        context.fillText(style.label, x, y + ratio * 0.5);
    }
}

function tracePath(context, rings, scale, close) {
    context.beginPath();
    for (const ring of rings) {
        ring.forEach((point, index) => {
            if (index === 0) context.moveTo(point.x * scale, point.y * scale);
            else context.lineTo(point.x * scale, point.y * scale);
        });
        if (close) context.closePath();
    }
}

function drawFeature(context, feature, style, scale, ratio, hits) {
    const rings = feature.loadGeometry();
    if (feature.type === POINT) {
        for (const ring of rings)
            for (const point of ring) {
                drawPoint(context, point.x * scale, point.y * scale, style, ratio);
                if (style.hit)
                    hits.push({
                        x: (point.x * scale) / ratio,
                        y: (point.y * scale) / ratio,
                        radius: (style.radius ?? 5) + 3,
                        properties: feature.properties,
                    });
            }
        return;
    }
    tracePath(context, rings, scale, feature.type === POLYGON);
    if (feature.type === POLYGON && style.fill) {
        context.fillStyle = style.fill;
        context.fill('nonzero');
    }
    if (style.stroke) {
        context.setLineDash((style.dash ?? []).map((length) => length * ratio));
        context.lineWidth = (style.width ?? 1) * ratio;
        context.strokeStyle = style.stroke;
        context.lineJoin = 'round';
        context.stroke();
        context.setLineDash([]);
    }
}

/* A polygon as a Path2D in tile CSS pixels, for hit-testing. */
function polygonShape(feature, scale) {
    const path = new Path2D();
    for (const ring of feature.loadGeometry()) {
        ring.forEach((point, index) =>
            index === 0 ? path.moveTo(point.x * scale, point.y * scale) : path.lineTo(point.x * scale, point.y * scale),
        );
        path.closePath();
    }
    return { path, properties: feature.properties };
}

let scratch = null;
function hitContext() {
    scratch ??= document.createElement('canvas').getContext('2d');
    return scratch;
}

export const VectorTileLayer = L.GridLayer.extend({
    options: {
        layer: '',         /* the server's tile layer name: sites, network, areas, basemap... */
        parameters: {},    /* extra query parameters (orpha, role...) */
        style: () => null,
        filter: null,      /* optional (layerName, properties) => boolean */
        pointToLayer: null, /* optional (properties, latlng) => L.Layer for point features */
        polygonHits: false, /* keep drawn polygons for shapesAt() */
        updateWhenZooming: false,
        className: '',
    },

    initialize(options) {
        L.GridLayer.prototype.initialize.call(this, options);
        this._hits = new Map();
        this._controllers = new Map();
        this._tileMarkers = new Map();
        this._shapes = new Map();
        this._painted = new Map();
        this._markers = L.layerGroup();
        this.on('tileunload', (event) => {
            const key = tileKey(this._wrapCoords(event.coords));
            this._controllers.get(key)?.abort();
            this._controllers.delete(key);
            this._hits.delete(key);
            this._shapes.delete(key);
            this._painted.delete(key);
            for (const marker of this._tileMarkers.get(key) ?? []) this._markers.removeLayer(marker);
            this._tileMarkers.delete(key);
        });
    },

    onAdd(map) {
        L.GridLayer.prototype.onAdd.call(this, map);
        this._markers.addTo(map);
    },

    onRemove(map) {
        L.GridLayer.prototype.onRemove.call(this, map);
        this._markers.remove();
    },

    setParameters(parameters) {
        this.options.parameters = parameters;
        this.redraw();
        return this;
    },

    tileUrl(coords) {
        const query = new URLSearchParams();
        for (const [name, value] of Object.entries(this.options.parameters))
            if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
        const text = query.toString();
        return `tiles/${this.options.layer}/${coords.z}/${coords.x}/${coords.y}.mvt${text ? `?${text}` : ''}`;
    },

    createTile(coords, done) {
        const tile = L.DomUtil.create('canvas', 'leaflet-tile');
        const size = this.getTileSize();
        const ratio = window.devicePixelRatio || 1;
        tile.width = size.x * ratio;
        tile.height = size.y * ratio;
        tile.setAttribute('aria-hidden', 'true');
        const key = tileKey(coords);
        const controller = new AbortController();
        this._controllers.set(key, controller);
        fetchVectorTile(this.tileUrl(coords), controller.signal)
            .then((vectorTile) => {
                if (vectorTile && !controller.signal.aborted) this._paint(tile, coords, vectorTile, ratio);
                done(null, tile);
            })
            .catch((error) => {
                if (error.name !== 'AbortError') console.warn(`tile ${this.options.layer} ${key}: ${error.message}`);
                done(null, tile);
            })
            .finally(() => this._controllers.delete(key));
        return tile;
    },

    _addPointLayers(coords, layer, feature) {
        const size = this.getTileSize();
        const key = tileKey(coords);
        if (!this._tileMarkers.has(key)) this._tileMarkers.set(key, []);
        for (const ring of feature.loadGeometry())
            for (const point of ring) {
                const pixel = L.point(
                    (coords.x + point.x / layer.extent) * size.x,
                    (coords.y + point.y / layer.extent) * size.y,
                );
                const marker = this.options.pointToLayer(feature.properties, this._map.unproject(pixel, coords.z));
                if (!marker) continue;
                this._tileMarkers.get(key).push(marker);
                this._markers.addLayer(marker);
            }
    },

    _paint(tile, coords, vectorTile, ratio) {
        const context = tile.getContext('2d');
        const hits = [];
        const shapes = [];
        let painted = 0;
        for (const [layerName, layer] of Object.entries(vectorTile.layers)) {
            const scale = tile.width / layer.extent;
            for (let index = 0; index < layer.length; index++) {
                const feature = layer.feature(index);
                if (this.options.filter && !this.options.filter(layerName, feature.properties)) continue;
                if (feature.type === POINT && this.options.pointToLayer) {
                    if (this._map) this._addPointLayers(coords, layer, feature);
                    continue;
                }
                const style = this.options.style(layerName, feature.properties, feature.type, coords.z);
                if (!style) continue;
                drawFeature(context, feature, style, scale, ratio, hits);
                painted++;
                if (feature.type === POLYGON && this.options.polygonHits) shapes.push(polygonShape(feature, scale / ratio));
            }
        }
        if (hits.length) this._hits.set(tileKey(coords), hits);
        if (shapes.length) this._shapes.set(tileKey(coords), shapes);
        this._painted.set(tileKey(coords), painted);
    },

    /* What the loaded tiles drew, for tests: {features: how many features
     * were painted, points: [{properties, latlng}] of each hit-testable
     * point (a tile's points may lie outside the view)}. */
    drawn() {
        let features = 0;
        for (const count of this._painted.values()) features += count;
        const size = this.getTileSize();
        const points = [];
        for (const [key, hits] of this._hits) {
            const [x, y, z] = key.split(':').map(Number);
            for (const hit of hits)
                points.push({ properties: hit.properties, latlng: this._map.unproject([x * size.x + hit.x, y * size.y + hit.y], z) });
        }
        return { features, points };
    },

    /* The properties of the drawn polygons containing `latlng` (polygonHits). */
    shapesAt(latlng) {
        if (!this._map || this._tileZoom === undefined) return [];
        const zoom = this._tileZoom;
        const size = this.getTileSize();
        const pixel = this._map.project(latlng, zoom);
        const coords = L.point(Math.floor(pixel.x / size.x), Math.floor(pixel.y / size.y));
        coords.z = zoom;
        const shapes = this._shapes.get(tileKey(this._wrapCoords(coords))) ?? [];
        const x = pixel.x - coords.x * size.x;
        const y = pixel.y - coords.y * size.y;
        return shapes.filter((shape) => hitContext().isPointInPath(shape.path, x, y, 'nonzero')).map((shape) => shape.properties);
    },

    /* The drawn points under `latlng` (within their radius plus `tolerance`
     * screen pixels), nearest first: [{properties, distance}]. */
    featuresAt(latlng, tolerance = 4) {
        if (!this._map || this._tileZoom === undefined) return [];
        const zoom = this._tileZoom;
        const scale = this._map.getZoomScale(this._map.getZoom(), zoom);
        const size = this.getTileSize();
        const pixel = this._map.project(latlng, zoom);
        const found = [];
        for (let dx = -1; dx <= 1; dx++)
            for (let dy = -1; dy <= 1; dy++) {
                const coords = L.point(Math.floor(pixel.x / size.x) + dx, Math.floor(pixel.y / size.y) + dy);
                coords.z = zoom;
                const hits = this._hits.get(tileKey(this._wrapCoords(coords))) ?? [];
                for (const hit of hits) {
                    const distance = Math.hypot(pixel.x - (coords.x * size.x + hit.x), pixel.y - (coords.y * size.y + hit.y));
                    if (distance <= hit.radius + tolerance / scale) found.push({ properties: hit.properties, distance });
                }
            }
        return found.sort((a, b) => a.distance - b.distance);
    },
});

const tileJsonCache = new Map();

/* The TileJSON of one server layer (cached); null when the server has none. */
export function tileJson(layer) {
    if (!tileJsonCache.has(layer))
        tileJsonCache.set(
            layer,
            fetch(`tiles/${layer}.json`)
                .then((response) => (response.ok ? response.json() : null))
                .catch(() => null),
        );
    return tileJsonCache.get(layer);
}

/* A VectorTileLayer for server layer `layer`, its zoom range from TileJSON
 * (the server's always gives minzoom and maxzoom). */
export async function vectorLayer(layer, options) {
    const description = await tileJson(layer);
    if (!description) return null;
    return new VectorTileLayer({
        layer,
        minNativeZoom: description.minzoom,
        maxNativeZoom: description.maxzoom,
        ...options,
    });
}
