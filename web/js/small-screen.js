/* small-screen.js — phones and small screens: the list first, a map/list switch.
 *
 * Owns: the switch's two buttons (#show-list, #show-map: aria-pressed),
 * body.is-map-shown (app.css, below 700 px: the map fills the screen under
 * the header, the form and list are hidden; without it the map is hidden),
 * and telling the page when the map becomes visible. Invariants:
 *  - exactly one button is pressed, and it says what body.is-map-shown shows;
 *    from 700 px up the class changes nothing (map and list side by side
 *    or one above the other) and the switch is not displayed;
 *  - a hidden map (display: none, size 0) is never moved: mapVisible() says
 *    whether it has a size, and when it gets one (the switch, a rotation, a
 *    wider window: a ResizeObserver watches it) onMapShown() runs once
 *    (it tells Leaflet the new size, then sets the view);
 *  - the skip link to the results shows the list.
 * Importing this module creates nothing; createSmallScreen() needs the map. */

/* `elements`: showList, showMap (the buttons, null where the page has
 * none), skipLink (or null). onMapShown() runs each time the map goes from
 * hidden to visible. Returns {showMap(), showList(), mapVisible()}. */
export function createSmallScreen({ map, elements, onMapShown }) {
    const container = map.getContainer();
    const mapVisible = () => container.offsetWidth > 0 && container.offsetHeight > 0;
    let visible = mapVisible();

    /* Runs onMapShown() if the map just got a size (reading the size lays the page out). */
    function followVisibility() {
        const now = mapVisible();
        if (now && !visible) {
            visible = true;
            onMapShown();
        }
        visible = now;
    }

    function show(showingMap) {
        document.body.classList.toggle('is-map-shown', showingMap);
        elements.showMap?.setAttribute('aria-pressed', String(showingMap));
        elements.showList?.setAttribute('aria-pressed', String(!showingMap));
        followVisibility();
    }

    elements.showMap?.addEventListener('click', () => show(true));
    elements.showList?.addEventListener('click', () => show(false));
    elements.skipLink?.addEventListener('click', () => show(false));
    if (typeof ResizeObserver === 'function') new ResizeObserver(followVisibility).observe(container);

    return {
        showMap: () => show(true),
        showList: () => show(false),
        mapVisible,
    };
}
