/* config.js — deployment options of the page.
 *
 * Owns: the few settings a deployment may change by editing this file.
 * Invariant: the defaults make the page request nothing from any host but
 * its own server. */
export const config = {
    /* An optional raster basemap under our vector basemap, e.g.
     * { url: 'https://tiles.example.org/{z}/{x}/{y}.png', attribution: '© …' }.
     * Off by default: turning it on makes every visitor's browser contact
     * that host (and the server's CSP must allow it in img-src). */
    rasterBasemap: null,
    /* Initial view when the URL gives none: metropolitan France and Corsica. */
    bounds: [[41.3, -5.2], [51.1, 9.6]],
    center: [46.6, 2.4],
    zoom: 6,
    /* Results asked from /api/nearest. */
    nearestCount: 10,
};
